import type { Channel, DomainError } from "@chat4all/kernel";

/**
 * MetadataStore: users, identities, refresh tokens, conversations, members and files
 * (PostgreSQL in the cluster, PGlite embedded: the same SQL and migrations).
 *
 * Contract (checked by `contract.ts` against every adapter):
 * - Usernames are unique case-insensitively, emails too: a duplicate raises DomainError 409
 *   `USERNAME_TAKEN` / `EMAIL_TAKEN` and writes nothing.
 * - An external identity (channel, externalId) belongs to at most one user: linking one owned by
 *   someone else raises 409 `IDENTITY_TAKEN`; relinking one's own is a no-op; a user has at most
 *   one identity per channel (linking again replaces it).
 * - A private conversation has exactly two members; creating one for a pair that already has one
 *   returns the existing conversation with `created: false` (also under concurrent calls).
 * - Every multi-row write is atomic.
 */
export interface MetadataStore {
  /** Runs versioned migrations; idempotent. */
  init(): Promise<void>;

  createUser(u: NewUser): Promise<User>;
  getUser(id: string): Promise<User | null>;
  getUserByUsername(username: string): Promise<User | null>;
  getUsers(ids: string[]): Promise<User[]>;
  /** Users whose username or name contains `q` (case-insensitive), ordered by username, after `afterUsername`. */
  searchUsers(q: { text?: string; limit: number; afterUsername?: string }): Promise<User[]>;

  linkIdentity(userId: string, channel: Exclude<Channel, "delivery">, externalId: string): Promise<void>;
  listIdentities(userId: string): Promise<Identity[]>;
  /** Identities of many users at once (for routing). */
  identitiesOf(userIds: string[]): Promise<Identity[]>;
  findUserByIdentity(channel: Exclude<Channel, "delivery">, externalId: string): Promise<string | null>;

  /** Stores a refresh token (by its hash) in a family. */
  putRefreshToken(t: RefreshToken): Promise<void>;
  /**
   * Marks the token used and returns it, atomically; returns `{ reused: true }` when it was used or
   * revoked before (the caller then revokes the family), null when unknown.
   */
  consumeRefreshToken(tokenHash: string, now: number): Promise<(RefreshToken & { reused: boolean }) | null>;
  revokeRefreshFamily(familyId: string): Promise<void>;

  /** Creates a conversation with its members; private ones are deduplicated per pair. */
  createConversation(c: NewConversation): Promise<{ conversation: Conversation; created: boolean }>;
  getConversation(id: string): Promise<Conversation | null>;
  /** The user's conversations, most recently active first. */
  listConversations(userId: string): Promise<Conversation[]>;
  listMembers(conversationId: string): Promise<Member[]>;
  /** The member's role, or null when not a member. */
  memberRole(conversationId: string, userId: string): Promise<Role | null>;
  /** Adds (or re-adds) a member; returns false when already a member. */
  addMember(conversationId: string, userId: string, role: Role): Promise<boolean>;
  /** Removes a member; returns false when not a member. */
  removeMember(conversationId: string, userId: string): Promise<boolean>;

  putFile(f: FileRecord): Promise<void>;
  getFile(key: string): Promise<FileRecord | null>;
  /** Updates state (and verified size/type) of a file. */
  updateFile(key: string, patch: Partial<Pick<FileRecord, "state" | "size" | "contentType" | "uploadId">>): Promise<void>;
  /** Records that a file was attached in a conversation (grants its members view access). */
  attachFile(key: string, conversationId: string): Promise<void>;
  /** Whether the file was attached in any conversation the user is a member of. */
  fileVisibleTo(key: string, userId: string): Promise<boolean>;
  /** Whether the file was attached in that conversation (so its members may send it there again). */
  fileAttachedIn(key: string, conversationId: string): Promise<boolean>;
  /** Uploads (single POST or multipart) still `uploading` and started before `before` (epoch ms), oldest first. */
  staleUploads(before: number, limit: number): Promise<FileRecord[]>;

  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Sequencer: allocates dense per-conversation sequence numbers.
 *
 * Contract: `allocate(c, ids)` returns one seq per id, in the order given. Ids seen before (in any
 * earlier call) get their earlier seq back; new ids get last_seq+1, last_seq+2, … — dense, no gaps,
 * no repeats, also under concurrent calls for the same conversation. Atomic: either every id has a
 * seq afterwards or none of the new ones does.
 */
export interface Sequencer {
  allocate(conversationId: string, messageIds: string[]): Promise<number[]>;
  /**
   * `allocate` for many conversations at once (one round trip, one transaction). Each request gets
   * its own result: its seqs, or the DomainError `allocate` would have raised for it alone
   * (CONVERSATION_NOT_FOUND, MESSAGE_ID_CONFLICT); an error for one changes nothing for it and does
   * not affect the others. Requests naming the same conversation are merged (they share its fate).
   * Infrastructure failures reject the whole call.
   */
  allocateMany(requests: AllocateRequest[]): Promise<AllocateResult[]>;
  /** The highest seq allocated so far (0 when none). */
  lastSeq(conversationId: string): Promise<number>;
}

/** One conversation's ids to sequence. */
export interface AllocateRequest {
  conversationId: string;
  messageIds: string[];
}
/** Seqs for one request (same order as its ids), or why it was refused. */
export type AllocateResult = { seqs: number[]; error?: undefined } | { error: DomainError; seqs?: undefined };

/** Member roles, strongest first. */
export type Role = "owner" | "admin" | "member";
/** A stored account (the hash never leaves the service layer). */
export interface User {
  id: string;
  username: string;
  email: string;
  name: string;
  passwordHash: string;
  avatarUrl: string | null;
  createdAt: number;
}
/** A new account. */
export type NewUser = Omit<User, "createdAt" | "avatarUrl"> & {
  avatarUrl?: string | null;
  /** Events announcing the account, written to the outbox in the same transaction as the user. */
  announce?: OutboxRecord[];
};

/** An event to append to the event log once the change that produced it has committed. */
export interface OutboxRecord {
  topic: string;
  key: string;
  value: Uint8Array;
}

/** An outbox record leased to one relay. */
export interface ClaimedRecord extends OutboxRecord {
  id: string;
}

/**
 * Outbox: events committed together with the metadata change they announce (so a change is never
 * left without its event), handed to a relay that appends them to the event log and acknowledges
 * them — at least once: a relay that dies before `ack` leaves them to be claimed again.
 *
 * Contract: `claim` leases up to `limit` unacknowledged records, oldest first; a record leased to one
 * caller is not returned to another until `leaseMs` has passed; `ack` deletes records for good.
 */
export interface Outbox {
  claim(limit: number, leaseMs: number): Promise<ClaimedRecord[]>;
  ack(ids: string[]): Promise<void>;
}
/** A linked external identity. */
export interface Identity {
  userId: string;
  channel: Exclude<Channel, "delivery">;
  externalId: string;
}
/** A refresh token, stored by hash; tokens of one login chain share a family. */
export interface RefreshToken {
  tokenHash: string;
  userId: string;
  familyId: string;
  expiresAt: number;
}
/** A conversation. `lastSeq` is the highest allocated sequence number. */
export interface Conversation {
  id: string;
  type: "private" | "group";
  metadata: Record<string, unknown> | null;
  createdBy: string;
  createdAt: number;
  lastSeq: number;
}
/** A new conversation; `members` excludes or includes the creator (who becomes owner). */
export interface NewConversation {
  id: string;
  type: "private" | "group";
  createdBy: string;
  members: string[];
  metadata: Record<string, unknown> | null;
}
/** A member of a conversation. */
export interface Member {
  userId: string;
  role: Role;
  joinedAt: number;
}
/** A file record: the object at `key` and what the uploader declared. */
export interface FileRecord {
  key: string;
  ownerId: string;
  filename: string;
  contentType: string;
  size: number;
  state: "uploading" | "ready" | "rejected";
  uploadId: string | null;
  createdAt: number;
}
