import { afterAll, describe, expect, test } from "bun:test";
import type { StoredMessage } from "@chat4all/kernel";
import { describeMessageStoreContract } from "@chat4all/message-store/contract";
import { CASSANDRA_MIGRATIONS, bigintKey, createCassandraMessageStore, intKey, routingKey, textKey, type CassandraMessageStoreConfig } from "@chat4all/message-store";
import { Client } from "cassandra-driver";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the servers (bash infra/up.sh cassandra) and load infra/env.sh`);
  return v;
}

const base = {
  contactPoints: env("C4A_CASSANDRA_CONTACT_POINTS").split(",").map((s) => s.trim()),
  localDataCenter: env("C4A_CASSANDRA_DC"),
};
// One keyspace per run (and per purpose); all are dropped at the end.
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const keyspaces = { contract: `c4a_test_${run}`, fresh: `c4a_test_${run}_b`, tokens: `c4a_test_${run}_t` };
const admin = new Client({ ...base });
afterAll(async () => {
  for (const ks of Object.values(keyspaces)) await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => {});
  await admin.shutdown();
});

// bucketSize 10: the contract's conversations span many partitions (137 messages → 14 buckets).
const contractConfig: CassandraMessageStoreConfig = { ...base, keyspace: keyspaces.contract, bucketSize: 10 };
describeMessageStoreContract("cassandra", async () => createCassandraMessageStore(contractConfig), { pageMs: 500 });

const msg = (conversationId: string, seq: number): StoredMessage => ({
  messageId: `${conversationId}-${seq}`,
  conversationId,
  senderId: "bench",
  type: "text",
  content: `message number ${seq} with a little text in it`,
  attachments: null,
  metadata: { client: "bench" },
  targetChannels: ["delivery"],
  createdAt: Date.now(),
  origin: "delivery",
  seq,
});

describe("cassandra message store", () => {
  test("cassandra message store: two processes migrating a fresh keyspace at once both succeed, each migration runs once", async () => {
    const [a, b] = [createCassandraMessageStore({ ...base, keyspace: keyspaces.fresh }), createCassandraMessageStore({ ...base, keyspace: keyspaces.fresh })];
    try {
      await Promise.all([a.init(), b.init()]);
      const rows = (await admin.execute(`SELECT version, name FROM ${keyspaces.fresh}.schema_migrations`)).rows;
      expect(rows.map((r) => r.version).sort()).toEqual(CASSANDRA_MIGRATIONS.map((m) => m.version));
      expect((await admin.execute(`SELECT * FROM ${keyspaces.fresh}.schema_lock`)).rows).toEqual([]);
      const tables = (await admin.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", [keyspaces.fresh], { prepare: true })).rows.map((r) => r.table_name as string);
      expect(tables.sort()).toEqual(["message_buckets", "messages", "receipts", "schema_lock", "schema_migrations", "store_settings", "user_inbox", "user_inbox_days"]);
      await a.putMessages([msg("c", 1)]);
      expect((await b.getMessage("c", 1))?.content).toBe(msg("c", 1).content);
    } finally {
      await a.close();
      await b.close();
    }
  }, 90_000);

  test("cassandra message store: a keyspace keeps the bucket size it was created with", async () => {
    const other = createCassandraMessageStore({ ...base, keyspace: keyspaces.fresh, bucketSize: 7 });
    try {
      const err = await other.init().then(() => null, (e: Error) => e);
      expect(String((err?.cause as Error | undefined)?.message)).toContain("uses bucketSize 1000, config asks 7");
    } finally {
      await other.close();
    }
  }, 30_000);

  test("cassandra message store: putMessages throughput and listMessages latency (10,000 messages, 100 conversations)", async () => {
    const store = createCassandraMessageStore({ ...base, keyspace: keyspaces.fresh });
    try {
      await store.init();
      const convs = Array.from({ length: 100 }, (_, i) => `bench-${run}-${i}`);
      const batch = convs.flatMap((c) => Array.from({ length: 100 }, (_, s) => msg(c, s + 1)));
      await store.putMessages(batch.slice(0, 200).map((m) => ({ ...m, conversationId: `warm-${m.conversationId}` })));
      const t0 = performance.now();
      await store.putMessages(batch);
      const writeMs = performance.now() - t0;
      // A second pass with several smaller calls, as the ingest worker would issue them.
      const more = convs.flatMap((c) => Array.from({ length: 100 }, (_, s) => msg(c, s + 101)));
      const t1 = performance.now();
      for (let i = 0; i < more.length; i += 500) await store.putMessages(more.slice(i, i + 500));
      const write2Ms = performance.now() - t1;
      const lat: number[] = [];
      for (let i = 0; i < 200; i++) {
        const c = convs[i % convs.length]!;
        const t = performance.now();
        const page = await store.listMessages(c, { limit: 50, beforeSeq: i % 2 ? 120 : undefined });
        lat.push(performance.now() - t);
        expect(page.length).toBe(50);
      }
      lat.sort((x, y) => x - y);
      const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
      console.log(
        `cassandra putMessages: 10,000 msgs in one call ${writeMs.toFixed(0)} ms = ${Math.round(10_000 / (writeMs / 1000))} msg/s; ` +
          `20 calls of 500: ${write2Ms.toFixed(0)} ms = ${Math.round(10_000 / (write2Ms / 1000))} msg/s; ` +
          `listMessages(limit 50) p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, p99 ${pct(0.99)} ms`,
      );
      expect(writeMs).toBeLessThan(30_000);
    } finally {
      await store.close();
    }
  }, 60_000);

  test("cassandra: the routing keys batches are grouped by hash to the tokens Cassandra gives the partitions", async () => {
    const store = createCassandraMessageStore({ ...base, keyspace: keyspaces.tokens, bucketSize: 10 });
    await store.init();
    try {
      const convs = ["c-1", "conversation-ü-2", crypto.randomUUID()];
      await store.putMessages(convs.flatMap((c) => [msg(c, 3), msg(c, 25)]));
      await store.appendInbox(convs.map((c) => ({ userId: `user-${c}`, message: msg(c, 3) })));
      await admin.connect();
      for (const c of convs) {
        for (const bucket of [0, 2]) {
          const rs = await admin.execute(`SELECT token(conversation_id, bucket) AS t FROM ${keyspaces.tokens}.messages WHERE conversation_id = ? AND bucket = ? LIMIT 1`, [c, bucket], { prepare: true });
          expect(admin.metadata.newToken(routingKey([textKey(c), bigintKey(bucket)])).toString()).toBe(String(rs.first()!.t));
        }
        const day = Math.floor(msg(c, 3).createdAt / 86_400_000);
        const rs = await admin.execute(`SELECT token(user_id, day) AS t FROM ${keyspaces.tokens}.user_inbox WHERE user_id = ? AND day = ? LIMIT 1`, [`user-${c}`, day], { prepare: true });
        expect(admin.metadata.newToken(routingKey([textKey(`user-${c}`), intKey(day)])).toString()).toBe(String(rs.first()!.t));
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});
