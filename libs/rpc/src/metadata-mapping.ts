// Mapping between the MetadataStore domain types and their protobuf messages (both directions).
import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Conversation, FileRecord, Identity, Member, RefreshToken, Role, User } from "@chat4all/metadata";
import {
  type Conversation as PbConversation,
  type ConversationSchema,
  ConversationType as PbConversationType,
  ExternalChannel as PbExternalChannel,
  type FileRecord as PbFileRecord,
  type FileRecordSchema,
  FileState as PbFileState,
  type Identity as PbIdentity,
  type IdentitySchema,
  type Member as PbMember,
  type MemberSchema,
  type RefreshToken as PbRefreshToken,
  type RefreshTokenSchema,
  Role as PbRole,
  type User as PbUser,
  type UserSchema,
} from "@chat4all/proto/chat4all/v1/metadata_pb";

/** A two-way mapping between domain strings and protobuf enum numbers. */
function enumMap<D extends string, P extends number>(pairs: Record<D, P>) {
  const back = new Map<number, D>();
  for (const [d, p] of Object.entries(pairs) as Array<[D, P]>) back.set(p, d);
  return {
    toPb: (d: D): P => (Object.hasOwn(pairs, d) ? pairs[d] : 0) as P,
    /** Throws InvalidArgument for 0 (unspecified) or an unknown number. */
    fromPb: (p: number, field: string): D => {
      const d = back.get(p);
      if (d === undefined) throw new ConnectError(`${field}: unknown value ${p}`, Code.InvalidArgument);
      return d;
    },
  };
}

/** ExternalChannel ↔ identity channel. */
export const channels = enumMap<Identity["channel"], PbExternalChannel>({
  whatsapp: PbExternalChannel.WHATSAPP,
  instagram: PbExternalChannel.INSTAGRAM,
});
/** Role ↔ member role. */
export const roles = enumMap<Role, PbRole>({ owner: PbRole.OWNER, admin: PbRole.ADMIN, member: PbRole.MEMBER });
/** ConversationType ↔ conversation type. */
export const conversationTypes = enumMap<Conversation["type"], PbConversationType>({
  private: PbConversationType.PRIVATE,
  group: PbConversationType.GROUP,
});
/** FileState ↔ file state. */
export const fileStates = enumMap<FileRecord["state"], PbFileState>({
  uploading: PbFileState.UPLOADING,
  ready: PbFileState.READY,
  rejected: PbFileState.REJECTED,
});

/** A JS number (epoch ms, size, seq) as a protobuf 64-bit integer. */
export const i64 = (n: number): bigint => BigInt(Math.trunc(n));
/** A JSON object (or null) as a Struct field value. */
export const struct = (o: Record<string, unknown> | null): JsonObject | undefined => (o ?? undefined) as JsonObject | undefined;

/** Throws when a response lacks a message field the contract guarantees. */
export function required<T>(v: T | undefined, field: string): T {
  if (v === undefined) throw new ConnectError(`${field}: missing in response`, Code.Internal);
  return v;
}

/** User → protobuf User. */
export const userToPb = (u: User): MessageInitShape<typeof UserSchema> => ({
  id: u.id,
  username: u.username,
  email: u.email,
  name: u.name,
  passwordHash: u.passwordHash,
  avatarUrl: u.avatarUrl ?? undefined,
  createdAtMs: i64(u.createdAt),
});
/** protobuf User → User (absent avatar → null). */
export const userFromPb = (p: PbUser): User => ({
  id: p.id,
  username: p.username,
  email: p.email,
  name: p.name,
  passwordHash: p.passwordHash,
  avatarUrl: p.avatarUrl ?? null,
  createdAt: Number(p.createdAtMs),
});

/** Identity → protobuf Identity. */
export const identityToPb = (i: Identity): MessageInitShape<typeof IdentitySchema> => ({
  userId: i.userId,
  channel: channels.toPb(i.channel),
  externalId: i.externalId,
});
/** protobuf Identity → Identity; unknown channel → InvalidArgument. */
export const identityFromPb = (p: PbIdentity): Identity => ({
  userId: p.userId,
  channel: channels.fromPb(p.channel, "identity.channel"),
  externalId: p.externalId,
});

/** RefreshToken → protobuf RefreshToken. */
export const tokenToPb = (t: RefreshToken): MessageInitShape<typeof RefreshTokenSchema> => ({
  tokenHash: t.tokenHash,
  userId: t.userId,
  familyId: t.familyId,
  expiresAtMs: i64(t.expiresAt),
});
/** protobuf RefreshToken → RefreshToken. */
export const tokenFromPb = (p: PbRefreshToken): RefreshToken => ({
  tokenHash: p.tokenHash,
  userId: p.userId,
  familyId: p.familyId,
  expiresAt: Number(p.expiresAtMs),
});

/** Conversation → protobuf Conversation (null metadata → absent). */
export const conversationToPb = (c: Conversation): MessageInitShape<typeof ConversationSchema> => ({
  id: c.id,
  type: conversationTypes.toPb(c.type),
  metadata: struct(c.metadata),
  createdBy: c.createdBy,
  createdAtMs: i64(c.createdAt),
  lastSeq: i64(c.lastSeq),
});
/** protobuf Conversation → Conversation (absent metadata → null). */
export const conversationFromPb = (p: PbConversation): Conversation => ({
  id: p.id,
  type: conversationTypes.fromPb(p.type, "conversation.type"),
  metadata: p.metadata ?? null,
  createdBy: p.createdBy,
  createdAt: Number(p.createdAtMs),
  lastSeq: Number(p.lastSeq),
});

/** Member → protobuf Member. */
export const memberToPb = (m: Member): MessageInitShape<typeof MemberSchema> => ({
  userId: m.userId,
  role: roles.toPb(m.role),
  joinedAtMs: i64(m.joinedAt),
});
/** protobuf Member → Member; unknown role → InvalidArgument. */
export const memberFromPb = (p: PbMember): Member => ({
  userId: p.userId,
  role: roles.fromPb(p.role, "member.role"),
  joinedAt: Number(p.joinedAtMs),
});

/** FileRecord → protobuf FileRecord (null upload id → absent). */
export const fileToPb = (f: FileRecord): MessageInitShape<typeof FileRecordSchema> => ({
  key: f.key,
  ownerId: f.ownerId,
  filename: f.filename,
  contentType: f.contentType,
  size: i64(f.size),
  state: fileStates.toPb(f.state),
  uploadId: f.uploadId ?? undefined,
  createdAtMs: i64(f.createdAt),
});
/** protobuf FileRecord → FileRecord (absent upload id → null). */
export const fileFromPb = (p: PbFileRecord): FileRecord => ({
  key: p.key,
  ownerId: p.ownerId,
  filename: p.filename,
  contentType: p.contentType,
  size: Number(p.size),
  state: fileStates.fromPb(p.state, "file.state"),
  uploadId: p.uploadId ?? null,
  createdAt: Number(p.createdAtMs),
});
