import type { Channel } from "@chat4all/kernel";
import type {
  AllocateRequest,
  AllocateResult,
  ClaimedRecord,
  Conversation,
  FileRecord,
  Identity,
  Member,
  MetadataStore,
  NewConversation,
  NewUser,
  Outbox,
  RefreshToken,
  Role,
  Sequencer,
  User,
} from "./metadata-store.ts";
import { loadMigrations, migrate } from "./migrate.ts";
import { containsPattern, guard, ms, toUser, ts, USER_COLS, type UserRow } from "./sql-common.ts";
import * as conversations from "./sql-conversations.ts";
import type { SqlDriver } from "./sql-driver.ts";
import * as files from "./sql-files.ts";
import { ackOutbox, claimOutbox, writeOutbox } from "./sql-outbox.ts";
import { allocateSeqs, lastSeqOf } from "./sql-sequencer.ts";
import { allocateBatch } from "./sql-sequencer-batch.ts";

type ExternalChannel = Exclude<Channel, "delivery">;
type IdentityRow = { user_id: string; channel: ExternalChannel; external_id: string };
const toIdentity = (r: IdentityRow): Identity => ({ userId: r.user_id, channel: r.channel, externalId: r.external_id });

/** MetadataStore and Sequencer over any SqlDriver (PostgreSQL or PGlite: same SQL, same migrations). */
export class SqlMetadata implements MetadataStore, Sequencer, Outbox {
  constructor(private readonly db: SqlDriver) {}

  init(): Promise<void> {
    return guard("migrate", async () => {
      await migrate(this.db, await loadMigrations());
    });
  }

  createUser(u: NewUser): Promise<User> {
    return guard("create user", () =>
      this.db.transaction(async (tx) => {
        const [row] = await tx.query<UserRow>(
          `INSERT INTO users (id, username, email, name, password_hash, avatar_url)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLS}`,
          [u.id, u.username, u.email, u.name, u.passwordHash, u.avatarUrl ?? null],
        );
        await writeOutbox(tx, u.announce ?? []);
        return toUser(row as UserRow);
      }),
    );
  }

  claim(limit: number, leaseMs: number): Promise<ClaimedRecord[]> {
    return claimOutbox(this.db, limit, leaseMs);
  }

  ack(ids: string[]): Promise<void> {
    return ackOutbox(this.db, ids);
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
    return conversations.createConversation(this.db, c);
  }
  getConversation(id: string): Promise<Conversation | null> {
    return conversations.getConversation(this.db, id);
  }
  listConversations(userId: string): Promise<Conversation[]> {
    return conversations.listConversations(this.db, userId);
  }
  listMembers(conversationId: string): Promise<Member[]> {
    return conversations.listMembers(this.db, conversationId);
  }
  memberRole(conversationId: string, userId: string): Promise<Role | null> {
    return conversations.memberRole(this.db, conversationId, userId);
  }
  addMember(conversationId: string, userId: string, role: Role): Promise<boolean> {
    return conversations.addMember(this.db, conversationId, userId, role);
  }
  removeMember(conversationId: string, userId: string): Promise<boolean> {
    return conversations.removeMember(this.db, conversationId, userId);
  }

  putFile(f: FileRecord): Promise<void> {
    return files.putFile(this.db, f);
  }
  getFile(key: string): Promise<FileRecord | null> {
    return files.getFile(this.db, key);
  }
  updateFile(key: string, patch: Partial<Pick<FileRecord, "state" | "size" | "contentType" | "uploadId">>): Promise<void> {
    return files.updateFile(this.db, key, patch);
  }
  attachFile(key: string, conversationId: string): Promise<void> {
    return files.attachFile(this.db, key, conversationId);
  }
  fileVisibleTo(key: string, userId: string): Promise<boolean> {
    return files.fileVisibleTo(this.db, key, userId);
  }
  fileAttachedIn(key: string, conversationId: string): Promise<boolean> {
    return files.fileAttachedIn(this.db, key, conversationId);
  }
  staleUploads(before: number, limit: number): Promise<FileRecord[]> {
    return files.staleUploads(this.db, before, limit);
  }

  allocate(conversationId: string, messageIds: string[]): Promise<number[]> {
    return guard("allocate seqs", () => allocateSeqs(this.db, conversationId, messageIds));
  }

  allocateMany(requests: AllocateRequest[]): Promise<AllocateResult[]> {
    return guard("allocate seqs (batch)", () => allocateBatch(this.db, requests));
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
