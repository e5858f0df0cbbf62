import { Database, type Statement } from "bun:sqlite";
import type { Receipt, StoredMessage } from "@chat4all/kernel";
import type { HistoryQuery, InboxEntry, MessageStore } from "./message-store.ts";

/** Configuration of the embedded MessageStore. */
export interface SqliteMessageStoreConfig {
  /** Database file, or ":memory:" (one connection only). */
  path: string;
  /** Milliseconds a writer waits for another connection's lock; default 5000. */
  busyTimeoutMs?: number;
}

/** Versioned schema; `PRAGMA user_version` records how many have run. */
const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS messages (
     conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL, sender_id TEXT NOT NULL,
     type TEXT NOT NULL, content TEXT NOT NULL, attachments TEXT, metadata TEXT, target_channels TEXT NOT NULL,
     created_at INTEGER NOT NULL, origin TEXT NOT NULL,
     PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS receipts (
     conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
     delivered_up_to INTEGER NOT NULL DEFAULT 0, read_up_to INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (conversation_id, user_id)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS user_inbox (
     user_id TEXT NOT NULL, created_at INTEGER NOT NULL, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
     message TEXT NOT NULL,
     PRIMARY KEY (user_id, created_at, conversation_id, seq)) WITHOUT ROWID;`,
];

interface MessageRow {
  conversation_id: string;
  seq: number;
  message_id: string;
  sender_id: string;
  type: string;
  content: string;
  attachments: string | null;
  metadata: string | null;
  target_channels: string;
  created_at: number;
  origin: string;
}
interface ReceiptRow {
  conversation_id: string;
  user_id: string;
  delivered_up_to: number;
  read_up_to: number;
}

const COLS = "conversation_id, seq, message_id, sender_id, type, content, attachments, metadata, target_channels, created_at, origin";

function toParams(m: StoredMessage) {
  return [
    m.conversationId, m.seq, m.messageId, m.senderId, m.type, m.content,
    m.attachments === null ? null : JSON.stringify(m.attachments),
    m.metadata === null ? null : JSON.stringify(m.metadata),
    JSON.stringify(m.targetChannels), m.createdAt, m.origin,
  ] as const;
}

function fromRow(r: MessageRow): StoredMessage {
  return {
    messageId: r.message_id,
    conversationId: r.conversation_id,
    senderId: r.sender_id,
    type: r.type as StoredMessage["type"],
    content: r.content,
    attachments: r.attachments === null ? null : JSON.parse(r.attachments),
    metadata: r.metadata === null ? null : JSON.parse(r.metadata),
    targetChannels: JSON.parse(r.target_channels),
    createdAt: r.created_at,
    origin: r.origin as StoredMessage["origin"],
    seq: r.seq,
  };
}

const toReceipt = (r: ReceiptRow): Receipt => ({
  conversationId: r.conversation_id,
  userId: r.user_id,
  deliveredUpTo: r.delivered_up_to,
  readUpTo: r.read_up_to,
});

type Params = (string | number | null)[];

/** Embedded MessageStore on bun:sqlite (WAL); several connections to one file behave like several processes. */
export function createSqliteMessageStore(config: SqliteMessageStoreConfig): MessageStore {
  let db: Database | undefined;
  let st: ReturnType<typeof prepareAll> | undefined;

  function prepareAll(d: Database) {
    const q = <R>(sql: string) => d.prepare<R, Params>(sql);
    return {
      put: q<never>(`INSERT OR REPLACE INTO messages (${COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
      get: q<MessageRow>(`SELECT ${COLS} FROM messages WHERE conversation_id = ? AND seq = ?`),
      // Both walk the primary key from one end of the range: cost O(limit).
      pageDesc: q<MessageRow>(`SELECT ${COLS} FROM messages WHERE conversation_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      pageAsc: q<MessageRow>(`SELECT ${COLS} FROM messages WHERE conversation_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`),
      receipt: q<ReceiptRow>(`SELECT * FROM receipts WHERE conversation_id = ? AND user_id = ?`),
      receipts: q<ReceiptRow>(`SELECT * FROM receipts WHERE conversation_id = ? ORDER BY user_id`),
      advance: q<ReceiptRow>(
        `INSERT INTO receipts (conversation_id, user_id, delivered_up_to, read_up_to) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
           delivered_up_to = max(delivered_up_to, excluded.delivered_up_to), read_up_to = max(read_up_to, excluded.read_up_to)
         RETURNING *`,
      ),
      inboxPut: q<never>(`INSERT OR REPLACE INTO user_inbox (user_id, created_at, conversation_id, seq, message) VALUES (?,?,?,?,?)`),
      inboxList: q<{ message: string }>(`SELECT message FROM user_inbox WHERE user_id = ? AND created_at >= ? ORDER BY created_at, conversation_id, seq LIMIT ?`),
    };
  }

  function s() {
    if (!st) throw new Error("sqlite message store: init() was not called");
    return st;
  }

  function migrate(d: Database) {
    d.transaction(() => {
      const { user_version } = d.query<{ user_version: number }, []>("PRAGMA user_version").get()!;
      for (let v = user_version; v < MIGRATIONS.length; v++) d.exec(MIGRATIONS[v]!);
      if (user_version < MIGRATIONS.length) d.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }

  return {
    async init() {
      if (st) return;
      try {
        const d = new Database(config.path, { create: true, strict: true });
        d.exec(`PRAGMA busy_timeout = ${config.busyTimeoutMs ?? 5000}`);
        d.exec("PRAGMA journal_mode = WAL");
        d.exec("PRAGMA synchronous = NORMAL");
        migrate(d);
        db = d;
        st = prepareAll(d);
      } catch (cause) {
        throw new Error(`sqlite message store: open ${config.path}`, { cause });
      }
    },

    async putMessages(messages) {
      if (messages.length === 0) return;
      const { put } = s();
      db!.transaction((ms: StoredMessage[]) => {
        for (const m of ms) put.run(...toParams(m));
      }).immediate(messages);
    },

    async listMessages(conversationId: string, q: HistoryQuery) {
      if (q.limit <= 0) return [];
      const stmt = q.order === "asc" ? s().pageAsc : s().pageDesc;
      const rows = stmt.all(conversationId, q.afterSeq ?? -1, q.beforeSeq ?? Number.MAX_SAFE_INTEGER, q.limit);
      return rows.map(fromRow);
    },

    async getMessage(conversationId, seq) {
      const row = s().get.get(conversationId, seq);
      return row ? fromRow(row) : null;
    },

    async advanceReceipt(conversationId, userId, kind, upToSeq) {
      const { receipt, advance } = s();
      // One IMMEDIATE transaction: the read of the old markers and the max() upsert see the same state.
      return db!.transaction(() => {
        const before = receipt.get(conversationId, userId);
        const old = before ? (kind === "read" ? before.read_up_to : before.delivered_up_to) : 0;
        if (before && old >= upToSeq) return { receipt: toReceipt(before), advanced: false };
        const after = advance.get(conversationId, userId, upToSeq, kind === "read" ? upToSeq : 0)!;
        return { receipt: toReceipt(after), advanced: old < upToSeq };
      }).immediate();
    },

    async getReceipts(conversationId) {
      return s().receipts.all(conversationId).map(toReceipt);
    },

    async appendInbox(entries: InboxEntry[]) {
      if (entries.length === 0) return;
      const { inboxPut } = s();
      db!.transaction((es: InboxEntry[]) => {
        for (const { userId, message: m } of es) inboxPut.run(userId, m.createdAt, m.conversationId, m.seq, JSON.stringify(m));
      }).immediate(entries);
    },

    async listInbox(userId, sinceMs, limit) {
      if (limit <= 0) return [];
      return s().inboxList.all(userId, sinceMs, limit).map((r) => JSON.parse(r.message) as StoredMessage);
    },

    async healthy() {
      try {
        return db?.query<{ ok: number }, []>("SELECT 1 AS ok").get()?.ok === 1;
      } catch {
        return false;
      }
    },

    async close() {
      db?.close(false);
      db = undefined;
      st = undefined;
    },
  };
}
