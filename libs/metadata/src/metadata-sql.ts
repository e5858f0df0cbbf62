import { conflict, invalid, notFound, type Channel } from "@chat4all/kernel";
import type {
  Conversation,
  FileRecord,
  Identity,
  Member,
  MetadataStore,
  NewConversation,
  NewUser,
  RefreshToken,
  Role,
  Sequencer,
  User,
} from "./metadata-store.ts";
import { loadMigrations, migrate } from "./migrate.ts";
import {
  CONVERSATION_COLS,
  containsPattern,
  FILE_COLS,
  guard,
  MEMBER_COLS,
  ms,
  toConversation,
  toFile,
  toMember,
  toUser,
  ts,
  USER_COLS,
  type ConversationRow,
  type FileRow,
  type UserRow,
} from "./sql-common.ts";
import type { SqlDriver } from "./sql-driver.ts";
import { allocateSeqs, lastSeqOf } from "./sql-sequencer.ts";

type ExternalChannel = Exclude<Channel, "delivery">;
type IdentityRow = { user_id: string; channel: ExternalChannel; external_id: string };
const toIdentity = (r: IdentityRow): Identity => ({ userId: r.user_id, channel: r.channel, externalId: r.external_id });

/** MetadataStore and Sequencer over any SqlDriver (PostgreSQL or PGlite: same SQL, same migrations). */
export class SqlMetadata implements MetadataStore, Sequencer {
  constructor(private readonly db: SqlDriver) {}

  init(): Promise<void> {
    return guard("migrate", async () => {
      await migrate(this.db, await loadMigrations());
    });
  }

  createUser(u: NewUser): Promise<User> {
    return guard("create user", async () => {
      const [row] = await this.db.query<UserRow>(
        `INSERT INTO users (id, username, email, name, password_hash, avatar_url)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLS}`,
        [u.id, u.username, u.email, u.name, u.passwordHash, u.avatarUrl ?? null],
      );
      return toUser(row as UserRow);
    });
  }

  getUser(id: string): Promise<User | null> {
    return guard("get user", async () => {
      const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLS} FROM users WHERE id = $1`, [id]);
      return row ? toUser(row) : null;
    });
  }

  getUserByUsername(username: string): Promise<User | null> {
    return guard("get user by username", async () => {
      const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLS} FROM users WHERE lower(username) = lower($1)`, [username]);
      return row ? toUser(row) : null;
    });
  }

  getUsers(ids: string[]): Promise<User[]> {
    return guard("get users", async () => {
      if (ids.length === 0) return [];
      const rows = await this.db.query<UserRow>(`SELECT ${USER_COLS} FROM users WHERE id = ANY($1::text[])`, [[...new Set(ids)]]);
      const byId = new Map(rows.map((r) => [r.id, toUser(r)]));
      return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
    });
  }

  searchUsers(q: { text?: string; limit: number; afterUsername?: string }): Promise<User[]> {
    return guard("search users", async () => {
      const pattern = q.text ? containsPattern(q.text) : null;
      const rows = await this.db.query<UserRow>(
        `SELECT ${USER_COLS} FROM users
         WHERE ($1::text IS NULL OR username ILIKE $1 ESCAPE '\\' OR name ILIKE $1 ESCAPE '\\')
           AND ($2::text IS NULL OR username COLLATE "C" > $2::text)
         ORDER BY username COLLATE "C" LIMIT $3`,
        [pattern, q.afterUsername ?? null, Math.max(0, Math.floor(q.limit))],
      );
      return rows.map(toUser);
    });
  }

  linkIdentity(userId: string, channel: ExternalChannel, externalId: string): Promise<void> {
    return guard("link identity", async () => {
      // One statement: replaces the user's identity on that channel; the (channel, external_id)
      // unique constraint rejects one owned by someone else (IDENTITY_TAKEN), also under races.
      await this.db.query(
        `INSERT INTO user_identities (user_id, channel, external_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, channel) DO UPDATE SET external_id = excluded.external_id, linked_at = now()
         WHERE user_identities.external_id <> excluded.external_id`,
        [userId, channel, externalId],
      );
    });
  }

  listIdentities(userId: string): Promise<Identity[]> {
    return this.identitiesOf([userId]);
  }

  identitiesOf(userIds: string[]): Promise<Identity[]> {
    return guard("list identities", async () => {
      if (userIds.length === 0) return [];
      const rows = await this.db.query<IdentityRow>(
        "SELECT user_id, channel, external_id FROM user_identities WHERE user_id = ANY($1::text[]) ORDER BY user_id, channel",
        [userIds],
      );
      return rows.map(toIdentity);
    });
  }

  findUserByIdentity(channel: ExternalChannel, externalId: string): Promise<string | null> {
    return guard("find user by identity", async () => {
      const [row] = await this.db.query<{ user_id: string }>(
        "SELECT user_id FROM user_identities WHERE channel = $1 AND external_id = $2",
        [channel, externalId],
      );
      return row?.user_id ?? null;
    });
  }

  putRefreshToken(t: RefreshToken): Promise<void> {
    return guard("put refresh token", async () => {
      await this.db.query(
        `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, ${ts(4)})`,
        [t.tokenHash, t.userId, t.familyId, t.expiresAt],
      );
    });
  }

  consumeRefreshToken(tokenHash: string, now: number): Promise<(RefreshToken & { reused: boolean }) | null> {
    return guard("consume refresh token", () =>
      this.db.transaction(async (tx) => {
        type Row = { user_id: string; family_id: string; expires_at: number; used: boolean; revoked: boolean };
        const [row] = await tx.query<Row>(
          `SELECT user_id, family_id, ${ms("expires_at")} AS expires_at, used_at IS NOT NULL AS used, revoked
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
          [tokenHash],
        );
        if (!row) return null;
        if (!row.used) await tx.query(`UPDATE refresh_tokens SET used_at = ${ts(2)} WHERE token_hash = $1`, [tokenHash, now]);
        return {
          tokenHash,
          userId: row.user_id,
          familyId: row.family_id,
          expiresAt: Number(row.expires_at),
          reused: row.used || row.revoked,
        };
      }),
    );
  }

  revokeRefreshFamily(familyId: string): Promise<void> {
    return guard("revoke refresh family", async () => {
      await this.db.query("UPDATE refresh_tokens SET revoked = true WHERE family_id = $1 AND NOT revoked", [familyId]);
    });
  }

  createConversation(c: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const members = [...new Set([c.createdBy, ...c.members])];
    if (c.type === "private" && members.length !== 2) {
      return Promise.reject(invalid("INVALID_MEMBERS", "a private conversation has exactly two distinct members"));
    }
    return guard("create conversation", () =>
      this.db.transaction(async (tx) => {
        if (c.type === "private") {
          const pair = [members[0], members[1], c.id];
          const claimed = await tx.query(
            `INSERT INTO private_pairs (user_a, user_b, conversation_id)
             VALUES (least($1 COLLATE "C", $2 COLLATE "C"), greatest($1 COLLATE "C", $2 COLLATE "C"), $3)
             ON CONFLICT (user_a, user_b) DO NOTHING RETURNING conversation_id`,
            pair,
          );
          if (claimed.length === 0) {
            // Another create for this pair committed first (ON CONFLICT waited for it): return that one.
            const [existing] = await tx.query<ConversationRow>(
              `SELECT ${CONVERSATION_COLS} FROM private_pairs p JOIN conversations c ON c.id = p.conversation_id
               WHERE p.user_a = least($1 COLLATE "C", $2 COLLATE "C") AND p.user_b = greatest($1 COLLATE "C", $2 COLLATE "C")`,
              pair.slice(0, 2),
            );
            if (!existing) throw new Error("private pair claimed but its conversation is missing");
            return { conversation: toConversation(existing), created: false };
          }
        }
        const [row] = await tx.query<ConversationRow>(
          `INSERT INTO conversations AS c (id, type, metadata, created_by) VALUES ($1, $2, $3::text::jsonb, $4)
           RETURNING ${CONVERSATION_COLS}`,
          [c.id, c.type, c.metadata == null ? null : JSON.stringify(c.metadata), c.createdBy],
        );
        await tx.query(
          `INSERT INTO conversation_members (conversation_id, user_id, role)
           SELECT $1, m.u, CASE WHEN m.u = $2 THEN 'owner' ELSE 'member' END FROM unnest($3::text[]) AS m(u)`,
          [c.id, c.createdBy, members],
        );
        return { conversation: toConversation(row as ConversationRow), created: true };
      }),
    );
  }

  getConversation(id: string): Promise<Conversation | null> {
    return guard("get conversation", async () => {
      const [row] = await this.db.query<ConversationRow>(`SELECT ${CONVERSATION_COLS} FROM conversations c WHERE c.id = $1`, [id]);
      return row ? toConversation(row) : null;
    });
  }

  listConversations(userId: string): Promise<Conversation[]> {
    return guard("list conversations", async () => {
      const rows = await this.db.query<ConversationRow>(
        `SELECT ${CONVERSATION_COLS} FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.user_id = $1 ORDER BY c.updated_at DESC, c.created_at DESC, c.id`,
        [userId],
      );
      return rows.map(toConversation);
    });
  }

  listMembers(conversationId: string): Promise<Member[]> {
    return guard("list members", async () => {
      const rows = await this.db.query<{ user_id: string; role: Role; joined_at: number }>(
        `SELECT ${MEMBER_COLS} FROM conversation_members WHERE conversation_id = $1 ORDER BY joined_at, user_id`,
        [conversationId],
      );
      return rows.map(toMember);
    });
  }

  memberRole(conversationId: string, userId: string): Promise<Role | null> {
    return guard("member role", async () => {
      const [row] = await this.db.query<{ role: Role }>(
        "SELECT role FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
        [conversationId, userId],
      );
      return row?.role ?? null;
    });
  }

  addMember(conversationId: string, userId: string, role: Role): Promise<boolean> {
    return guard("add member", async () => {
      const added = await this.db.query(
        `INSERT INTO conversation_members (conversation_id, user_id, role)
         SELECT id, $2, $3 FROM conversations WHERE id = $1 AND type = 'group'
         ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING 1`,
        [conversationId, userId, role],
      );
      if (added.length > 0) return true;
      return this.explainNoChange(conversationId, userId, "join");
    });
  }

  removeMember(conversationId: string, userId: string): Promise<boolean> {
    return guard("remove member", async () => {
      const removed = await this.db.query(
        `DELETE FROM conversation_members m USING conversations c
         WHERE m.conversation_id = $1 AND m.user_id = $2 AND c.id = m.conversation_id AND c.type = 'group'
         RETURNING 1`,
        [conversationId, userId],
      );
      if (removed.length > 0) return true;
      return this.explainNoChange(conversationId, userId, "leave");
    });
  }

  /** Why add/remove changed nothing: unknown conversation, private conversation, or already (not) a member. */
  private async explainNoChange(conversationId: string, userId: string, what: "join" | "leave"): Promise<false> {
    const [row] = await this.db.query<{ type: string; member: boolean }>(
      `SELECT type, EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2) AS member
       FROM conversations WHERE id = $1`,
      [conversationId, userId],
    );
    if (!row) throw notFound("CONVERSATION_NOT_FOUND", `conversation ${conversationId} not found`);
    if (row.type === "private" && row.member === (what === "leave")) {
      throw invalid("PRIVATE_CONVERSATION_MEMBERS", "members of a private conversation cannot change");
    }
    return false;
  }

  putFile(f: FileRecord): Promise<void> {
    return guard("put file", async () => {
      await this.db.query(
        `INSERT INTO files (key, owner_id, filename, content_type, size, state, upload_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, ${ts(8)})`,
        [f.key, f.ownerId, f.filename, f.contentType, f.size, f.state, f.uploadId, f.createdAt],
      );
    });
  }

  getFile(key: string): Promise<FileRecord | null> {
    return guard("get file", async () => {
      const [row] = await this.db.query<FileRow>(`SELECT ${FILE_COLS} FROM files WHERE key = $1`, [key]);
      return row ? toFile(row) : null;
    });
  }

  updateFile(key: string, patch: Partial<Pick<FileRecord, "state" | "size" | "contentType" | "uploadId">>): Promise<void> {
    return guard("update file", async () => {
      // State only moves uploading → ready | rejected (setting the current state again is a no-op).
      const updated = await this.db.query(
        `UPDATE files SET state = coalesce($2, state), size = coalesce($3, size), content_type = coalesce($4, content_type),
           upload_id = CASE WHEN $5 THEN $6 ELSE upload_id END
         WHERE key = $1 AND ($2::text IS NULL OR state = 'uploading' OR state = $2::text) RETURNING 1`,
        [key, patch.state ?? null, patch.size ?? null, patch.contentType ?? null, "uploadId" in patch, patch.uploadId ?? null],
      );
      if (updated.length > 0) return;
      const [row] = await this.db.query<{ state: string }>("SELECT state FROM files WHERE key = $1", [key]);
      if (!row) throw notFound("FILE_NOT_FOUND", `file ${key} not found`);
      throw conflict("FILE_STATE_CONFLICT", `file ${key} is ${row.state} and cannot become ${patch.state}`);
    });
  }

  attachFile(key: string, conversationId: string): Promise<void> {
    return guard("attach file", async () => {
      await this.db.query(
        "INSERT INTO file_conversations (file_key, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [key, conversationId],
      );
    });
  }

  fileVisibleTo(key: string, userId: string): Promise<boolean> {
    return guard("file visible to", async () => {
      const [row] = await this.db.query<{ visible: boolean }>(
        `SELECT EXISTS (
           SELECT 1 FROM file_conversations f JOIN conversation_members m ON m.conversation_id = f.conversation_id
           WHERE f.file_key = $1 AND m.user_id = $2) AS visible`,
        [key, userId],
      );
      return row?.visible === true;
    });
  }

  staleUploads(before: number, limit: number): Promise<FileRecord[]> {
    return guard("stale uploads", async () => {
      const rows = await this.db.query<FileRow>(
        `SELECT ${FILE_COLS} FROM files WHERE state = 'uploading' AND upload_id IS NOT NULL AND created_at < ${ts(1)}
         ORDER BY created_at, key LIMIT $2`,
        [before, Math.max(0, Math.floor(limit))],
      );
      return rows.map(toFile);
    });
  }

  allocate(conversationId: string, messageIds: string[]): Promise<number[]> {
    return guard("allocate seqs", () => allocateSeqs(this.db, conversationId, messageIds));
  }

  lastSeq(conversationId: string): Promise<number> {
    return guard("last seq", () => lastSeqOf(this.db, conversationId));
  }

  async healthy(): Promise<boolean> {
    try {
      const [row] = await this.db.query<{ ok: number }>("SELECT 1 AS ok");
      return row?.ok === 1;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
