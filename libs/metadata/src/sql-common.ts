import { conflict, isDomainError, notFound, type DomainError } from "@chat4all/kernel";
import type { Conversation, FileRecord, Member, Role, User } from "./metadata-store.ts";
import { pgErrorOf } from "./sql-driver.ts";

/** SQL selecting a timestamptz column as epoch milliseconds (a float8, so both drivers return a number). */
export const ms = (col: string) => `floor(extract(epoch FROM ${col}) * 1000)::float8`;
/** SQL turning epoch-milliseconds parameter `$n` into a timestamptz. */
export const ts = (n: number) => `(timestamptz 'epoch' + $${n}::float8 * interval '1 millisecond')`;

/** Domain error for each unique constraint a caller can hit. */
const UNIQUE: Record<string, () => DomainError> = {
  users_username_lower_key: () => conflict("USERNAME_TAKEN", "username is already taken"),
  users_email_lower_key: () => conflict("EMAIL_TAKEN", "email is already registered"),
  users_pkey: () => conflict("USER_EXISTS", "a user with this id already exists"),
  user_identities_channel_external_key: () => conflict("IDENTITY_TAKEN", "this external identity belongs to another user"),
  conversations_pkey: () => conflict("CONVERSATION_EXISTS", "a conversation with this id already exists"),
  private_pairs_conversation_id_key: () => conflict("CONVERSATION_EXISTS", "a conversation with this id already exists"),
  refresh_tokens_pkey: () => conflict("REFRESH_TOKEN_EXISTS", "refresh token already stored"),
  files_pkey: () => conflict("FILE_EXISTS", "a file with this key already exists"),
};

/** Domain error for a foreign key that points nowhere, by the referencing column. */
function missingReference(constraint: string): DomainError | null {
  if (constraint.endsWith("conversation_id_fkey")) return notFound("CONVERSATION_NOT_FOUND", "conversation not found");
  if (/(user_id|owner_id|created_by)_fkey$/.test(constraint)) return notFound("USER_NOT_FOUND", "user not found");
  if (constraint.endsWith("file_key_fkey")) return notFound("FILE_NOT_FOUND", "file not found");
  return null;
}

/** Runs `fn`; domain errors pass, known constraint violations become domain errors, the rest is wrapped with `op`. */
export async function guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDomainError(err)) throw err;
    const pgErr = pgErrorOf(err);
    if (pgErr?.constraint) {
      const mapped = pgErr.code === "23505" ? UNIQUE[pgErr.constraint]?.() : pgErr.code === "23503" ? missingReference(pgErr.constraint) : null;
      if (mapped) {
        mapped.cause = err;
        throw mapped;
      }
    }
    throw new Error(`metadata: ${op}`, { cause: err });
  }
}

/** Columns of `users` as a User row. */
export const USER_COLS = `id, username, email, name, password_hash, avatar_url, ${ms("created_at")} AS created_at`;
/** A `users` row. */
export interface UserRow {
  id: string;
  username: string;
  email: string;
  name: string;
  password_hash: string;
  avatar_url: string | null;
  created_at: number;
}
/** A User from its row. */
export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  avatarUrl: r.avatar_url,
  createdAt: Number(r.created_at),
});

/** Columns of `conversations` (aliased `c`) as a Conversation row. */
export const CONVERSATION_COLS = `c.id, c.type, c.metadata, c.created_by, ${ms("c.created_at")} AS created_at, c.last_seq`;
/** A `conversations` row. */
export interface ConversationRow {
  id: string;
  type: "private" | "group";
  metadata: Record<string, unknown> | null;
  created_by: string;
  created_at: number;
  last_seq: number | string;
}
/** A Conversation from its row. */
export const toConversation = (r: ConversationRow): Conversation => ({
  id: r.id,
  type: r.type,
  metadata: r.metadata ?? null,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  lastSeq: Number(r.last_seq),
});

/** Columns of `conversation_members` as a Member row. */
export const MEMBER_COLS = `user_id, role, ${ms("joined_at")} AS joined_at`;
/** A Member from its row. */
export const toMember = (r: { user_id: string; role: Role; joined_at: number }): Member => ({
  userId: r.user_id,
  role: r.role,
  joinedAt: Number(r.joined_at),
});

/** Columns of `files` as a FileRecord row. */
export const FILE_COLS = `key, owner_id, filename, content_type, size, state, upload_id, ${ms("created_at")} AS created_at`;
/** A `files` row. */
export interface FileRow {
  key: string;
  owner_id: string;
  filename: string;
  content_type: string;
  size: number | string;
  state: FileRecord["state"];
  upload_id: string | null;
  created_at: number;
}
/** A FileRecord from its row. */
export const toFile = (r: FileRow): FileRecord => ({
  key: r.key,
  ownerId: r.owner_id,
  filename: r.filename,
  contentType: r.content_type,
  size: Number(r.size),
  state: r.state,
  uploadId: r.upload_id,
  createdAt: Number(r.created_at),
});

/** `text` as an ILIKE pattern matching it literally anywhere (`%`, `_` and `\` escaped). */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
