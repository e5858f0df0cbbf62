import type { Receipt, StoredMessage } from "@chat4all/kernel";
import { Client, policies, types } from "cassandra-driver";
import { checkKeyspaceName, migrateCassandra } from "./cassandra-schema.ts";
import { type PartitionWrite, type RowWrite, bigintKey, estimateBytes, intKey, planBatches, routingKey, textKey } from "./cassandra-batches.ts";
import { mapLimit, messageFromRow, messageParams, num } from "./cassandra-rows.ts";
import type { HistoryQuery, InboxEntry, MessageStore } from "./message-store.ts";

/** Configuration of the cluster MessageStore. */
export interface CassandraMessageStoreConfig {
  /** "host" or "host:port". */
  contactPoints: string[];
  /** e.g. "datacenter1". */
  localDataCenter: string;
  keyspace: string;
  /** SimpleStrategy replication factor used when the keyspace is created; default 1. */
  replicationFactor?: number;
  /** Seqs per history partition; fixed at first start of a keyspace; default 1000. */
  bucketSize?: number;
  /** Parallel requests of one `putMessages`/`appendInbox`; default 32. */
  writeConcurrency?: number;
  username?: string;
  password?: string;
}

const DAY_MS = 86_400_000;
const HINT_PAGE = 16;
const MSG_COLS = "conversation_id, bucket, seq, message_id, sender_id, type, content, attachments, metadata, target_channels, created_at, origin";

/**
 * Cluster MessageStore on Cassandra. History lives in `messages((conversation_id, bucket), seq)`
 * with `bucket = floor(seq / bucketSize)`; `message_buckets` lists the buckets that hold rows so
 * a page reads at most ceil(limit / bucketSize) + 1 partitions plus one hint query, whatever the
 * conversation's size or the page bounds.
 */
export function createCassandraMessageStore(config: CassandraMessageStoreConfig): MessageStore {
  const ks = checkKeyspaceName(config.keyspace);
  let bucketSize = config.bucketSize ?? 1000;
  if (!Number.isInteger(bucketSize) || bucketSize < 1) throw new Error(`cassandra message store: bad bucketSize ${bucketSize}`);
  const concurrency = config.writeConcurrency ?? 32;
  const client = new Client({
    contactPoints: config.contactPoints,
    localDataCenter: config.localDataCenter,
    credentials: config.username ? { username: config.username, password: config.password ?? "" } : undefined,
    queryOptions: { prepare: true, consistency: types.consistencies.localQuorum },
    // A node that restarts is retried every few seconds, not after the driver's default backoff
    // (which grows to ten minutes and left writes failing long after the node was back).
    policies: { reconnection: new policies.reconnection.ExponentialReconnectionPolicy(500, 5_000, true) },
  });
  const P = { prepare: true };
  // Hint rows already written by this process (bounded): a hint is immutable once written.
  const hinted = new Set<string>();
  const remember = (k: string) => {
    if (hinted.size > 200_000) hinted.clear();
    hinted.add(k);
  };
  const exec = (what: string, cql: string, params: unknown[]) =>
    client.execute(cql, params, P).catch((cause) => {
      throw new Error(`cassandra: ${what}`, { cause });
    });

  /** Owners of a partition (by its routing key), so only rows the same replicas own share a batch. */
  function replicasOf(routing: Buffer): string {
    try {
      const hosts = client.getReplicas(ks, routing);
      return hosts && hosts.length > 0 ? hosts.map((h) => h.address).sort().join(",") : "";
    } catch {
      return "";
    }
  }

  /** Collects row writes per partition. */
  function partitions() {
    const byKey = new Map<string, PartitionWrite>();
    return {
      add(key: string, routing: () => Buffer[], query: string, params: unknown[]) {
        let p = byKey.get(key);
        if (!p) byKey.set(key, (p = { replicas: replicasOf(routingKey(routing())), rows: [] }));
        p.rows.push({ query, params, bytes: estimateBytes(params) } satisfies RowWrite);
      },
      values: () => byKey.values(),
    };
  }

  /** Sends the writes as unlogged batches (see cassandra-batches.ts), `concurrency` at a time. */
  async function write(what: string, parts: ReturnType<typeof partitions>) {
    await mapLimit(planBatches(parts.values()), concurrency, (b) =>
      (b.length === 1 ? client.execute(b[0]!.query, b[0]!.params, P) : client.batch(b, { prepare: true, logged: false })).catch((cause) => {
        throw new Error(`cassandra: ${what}`, { cause });
      }),
    );
  }

  /** Writes missing hint rows first, so a reader following the hints never misses a stored row. */
  async function writeHints(table: "message_buckets" | "user_inbox_days", col: "bucket" | "day", keys: Map<string, [string, number]>) {
    const todo = [...keys].filter(([k]) => !hinted.has(`${table}:${k}`));
    if (todo.length === 0) return;
    const idCol = table === "message_buckets" ? "conversation_id" : "user_id";
    const insert = `INSERT INTO ${ks}.${table} (${idCol}, ${col}) VALUES (?, ?)`;
    const parts = partitions();
    for (const [, [id, v]] of todo) parts.add(id, () => [textKey(id)], insert, [id, v]);
    await write(`write ${table}`, parts);
    for (const [k] of todo) remember(`${table}:${k}`);
  }

  async function readReceipt(conversationId: string, userId: string): Promise<Receipt | null> {
    const rs = await exec("read receipt", `SELECT delivered_up_to, read_up_to FROM ${ks}.receipts WHERE conversation_id = ? AND user_id = ?`, [conversationId, userId]);
    const r = rs.first();
    return r ? { conversationId, userId, deliveredUpTo: num(r.delivered_up_to), readUpTo: num(r.read_up_to) } : null;
  }

  return {
    async init() {
      try {
        await client.connect();
        await migrateCassandra(client, ks, config.replicationFactor ?? 1);
        const rs = await client.execute(
          `INSERT INTO ${ks}.store_settings (name, value) VALUES ('bucket_size', ?) IF NOT EXISTS`,
          [String(bucketSize)],
          { prepare: true, consistency: types.consistencies.quorum },
        );
        const stored = Number(rs.first()?.value ?? bucketSize);
        if (!rs.wasApplied() && stored !== bucketSize) {
          if (config.bucketSize !== undefined) throw new Error(`keyspace ${ks} uses bucketSize ${stored}, config asks ${bucketSize}`);
          bucketSize = stored;
        }
      } catch (cause) {
        throw new Error(`cassandra message store: init keyspace ${ks}`, { cause });
      }
    },

    async putMessages(messages) {
      if (messages.length === 0) return;
      const hints = new Map<string, [string, number]>();
      const parts = partitions();
      const insert = `INSERT INTO ${ks}.messages (${MSG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
      for (const m of messages) {
        const bucket = Math.floor(m.seq / bucketSize);
        const k = `${m.conversationId}\u0000${bucket}`;
        hints.set(k, [m.conversationId, bucket]);
        parts.add(k, () => [textKey(m.conversationId), bigintKey(bucket)], insert, [m.conversationId, bucket, ...messageParams(m)]);
      }
      await writeHints("message_buckets", "bucket", hints);
      await write("write messages", parts);
    },

    async listMessages(conversationId: string, q: HistoryQuery) {
      const lo = Math.max(0, (q.afterSeq ?? -1) + 1); // inclusive seq range [lo, hi]
      const hi = Math.min(Number.MAX_SAFE_INTEGER, (q.beforeSeq ?? Number.MAX_SAFE_INTEGER) - 1);
      if (q.limit <= 0 || hi < lo) return [];
      const asc = q.order === "asc";
      const dir = asc ? "ASC" : "DESC";
      const out: StoredMessage[] = [];
      let from = asc ? Math.floor(lo / bucketSize) : Math.floor(hi / bucketSize);
      const to = asc ? Math.floor(hi / bucketSize) : Math.floor(lo / bucketSize);
      for (;;) {
        const [a, b] = asc ? [from, to] : [to, from];
        const hints = await exec(
          "list buckets",
          `SELECT bucket FROM ${ks}.message_buckets WHERE conversation_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ${dir} LIMIT ${HINT_PAGE}`,
          [conversationId, a, b],
        );
        for (const row of hints.rows) {
          const rs = await exec(
            "list messages",
            `SELECT ${MSG_COLS} FROM ${ks}.messages WHERE conversation_id = ? AND bucket = ? AND seq >= ? AND seq <= ? ORDER BY seq ${dir} LIMIT ?`,
            [conversationId, row.bucket, lo, hi, q.limit - out.length],
          );
          out.push(...rs.rows.map(messageFromRow));
          if (out.length >= q.limit) return out;
        }
        if (hints.rows.length < HINT_PAGE) return out;
        const last = num(hints.rows[hints.rows.length - 1]!.bucket);
        from = asc ? last + 1 : last - 1;
        if (asc ? from > to : from < to) return out;
      }
    },

    async getMessage(conversationId, seq) {
      const rs = await exec("get message", `SELECT ${MSG_COLS} FROM ${ks}.messages WHERE conversation_id = ? AND bucket = ? AND seq = ?`, [
        conversationId,
        Math.floor(seq / bucketSize),
        seq,
      ]);
      const r = rs.first();
      return r ? messageFromRow(r) : null;
    },

    /*
     * Receipts are max-registers built on Cassandra's last-write-wins: every marker cell is written
     * with write-time (USING TIMESTAMP) equal to the marker's value, so whatever the arrival order
     * of concurrent writes from any number of processes, the cell holding the highest seq wins; no
     * LWT (4 round trips, contention) and no unbounded insert-only rows. READ up to n writes both
     * cells at time n, so delivered >= read always holds. `advanced` comes from a read just before
     * the write: two racing callers may both report `true` for the same value (harmless: status
     * notifications are at-least-once), but a marker can never move back.
     * Caveat: never write or delete these cells with a wall-clock timestamp (it would shadow every
     * later marker); keep Cassandra's minimum_timestamp guardrails disabled (the default).
     */
    async advanceReceipt(conversationId, userId, kind, upToSeq) {
      const before = await readReceipt(conversationId, userId);
      const b = before ?? { conversationId, userId, deliveredUpTo: 0, readUpTo: 0 };
      const old = kind === "read" ? b.readUpTo : b.deliveredUpTo;
      if (!Number.isSafeInteger(upToSeq) || upToSeq <= old) return { receipt: b, advanced: false };
      if (kind === "read") {
        await exec("advance read receipt", `UPDATE ${ks}.receipts USING TIMESTAMP ? SET delivered_up_to = ?, read_up_to = ? WHERE conversation_id = ? AND user_id = ?`, [
          upToSeq, upToSeq, upToSeq, conversationId, userId,
        ]);
      } else {
        await exec("advance delivered receipt", `UPDATE ${ks}.receipts USING TIMESTAMP ? SET delivered_up_to = ? WHERE conversation_id = ? AND user_id = ?`, [
          upToSeq, upToSeq, conversationId, userId,
        ]);
      }
      const receipt: Receipt = {
        conversationId,
        userId,
        deliveredUpTo: Math.max(b.deliveredUpTo, upToSeq),
        readUpTo: kind === "read" ? upToSeq : b.readUpTo,
      };
      return { receipt, advanced: true };
    },

    async getReceipts(conversationId) {
      const rs = await exec("list receipts", `SELECT user_id, delivered_up_to, read_up_to FROM ${ks}.receipts WHERE conversation_id = ?`, [conversationId]);
      return rs.rows.map((r) => ({ conversationId, userId: r.user_id as string, deliveredUpTo: num(r.delivered_up_to), readUpTo: num(r.read_up_to) }));
    },

    async appendInbox(entries: InboxEntry[]) {
      if (entries.length === 0) return;
      const hints = new Map<string, [string, number]>();
      const parts = partitions();
      const insert = `INSERT INTO ${ks}.user_inbox (user_id, day, created_at, conversation_id, seq, message) VALUES (?, ?, ?, ?, ?, ?)`;
      const json = new Map<string, string>(); // one serialization per message, not per member
      for (const { userId, message: m } of entries) {
        const day = Math.floor(m.createdAt / DAY_MS);
        const k = `${userId}\u0000${day}`;
        hints.set(k, [userId, day]);
        const id = `${m.conversationId}/${m.seq}`;
        let body = json.get(id);
        if (body === undefined) json.set(id, (body = JSON.stringify(m)));
        parts.add(k, () => [textKey(userId), intKey(day)], insert, [userId, day, new Date(m.createdAt), m.conversationId, m.seq, body]);
      }
      await writeHints("user_inbox_days", "day", hints);
      await write("append inbox", parts);
    },

    async listInbox(userId, sinceMs, limit) {
      if (limit <= 0) return [];
      const out: StoredMessage[] = [];
      let fromDay = Math.floor(sinceMs / DAY_MS);
      for (;;) {
        const days = await exec("list inbox days", `SELECT day FROM ${ks}.user_inbox_days WHERE user_id = ? AND day >= ? LIMIT ${HINT_PAGE}`, [userId, fromDay]);
        for (const d of days.rows) {
          const rs = await exec("list inbox", `SELECT message FROM ${ks}.user_inbox WHERE user_id = ? AND day = ? AND created_at >= ? LIMIT ?`, [
            userId, d.day, new Date(sinceMs), limit - out.length,
          ]);
          out.push(...rs.rows.map((r) => JSON.parse(r.message as string) as StoredMessage));
          if (out.length >= limit) return out;
        }
        if (days.rows.length < HINT_PAGE) return out;
        fromDay = (days.rows[days.rows.length - 1]!.day as number) + 1;
      }
    },

    async healthy() {
      try {
        const rs = await client.execute("SELECT release_version FROM system.local", [], P);
        return rs.rows.length === 1;
      } catch {
        return false;
      }
    },

    async close() {
      await client.shutdown();
    },
  };
}
