// The cluster as a client sees it: two gateway instances (:3000, :3001) on Kafka, NATS, Cassandra,
// PostgreSQL, Redis and MinIO, every app its own process (started by scripts/cluster.sh).
import { describe, expect, test } from "bun:test";
import { call, eventually, newUser, openSocket } from "../support/client.ts";
import { clusterApp } from "../support/cluster.ts";

const A = process.env.C4A_GATEWAY_A ?? "http://127.0.0.1:3000";
const B = process.env.C4A_GATEWAY_B ?? "http://127.0.0.1:3001";

/** The whole history, newest first, paged 100 at a time with before_sequence. */
async function history(base: string, token: string, conversationId: string) {
  const all: any[] = [];
  let before = "";
  for (;;) {
    const r = await call(base, "GET", `/v1/messages/${conversationId}?limit=100${before}`, { token });
    expect(r.status).toBe(200);
    all.push(...r.body);
    if (r.body.length < 100) return all;
    before = `&before_sequence=${r.body[r.body.length - 1].sequence_number}`;
  }
}

describe("cluster", () => {
  test("cluster: a message POSTed on one gateway reaches a socket on the other; history and read receipts hold", async () => {
    const alice = await newUser(A, "alice");
    const bob = await newUser(B, "bob");
    const conv = await call(A, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } });
    expect(conv.status).toBe(201);
    const conversationId = conv.body.conversation_id;
    const bobWs = await openSocket(B, bob.token);
    const aliceWs = await openSocket(A, alice.token);
    const key = crypto.randomUUID();
    const sent = await call(A, "POST", "/v1/messages", { token: alice.token, body: { idempotency_key: key, conversation_id: conversationId, content: "across instances" } });
    expect(sent.status).toBe(202);
    const frame = await bobWs.next(undefined, 15_000);
    expect(frame).toMatchObject({ type: "MESSAGE", message_id: key, sequence_number: 1, content: "across instances", sender_id: alice.id });
    const h = await history(B, bob.token, conversationId);
    expect(h.map((m) => m.message_id)).toEqual([key]);
    expect((await call(B, "PATCH", "/v1/messages/status", { token: bob.token, body: { conversation_id: conversationId, message_id: key, sequence_number: 1, status: "READ" } })).status).toBe(202);
    expect(await aliceWs.next((f) => f.type === "STATUS_UPDATE", 15_000)).toMatchObject({ status: "READ", read_by: bob.id, sequence_number: 1 });
    await eventually(async () => (await history(A, alice.token, conversationId))[0]?.status === "READ", 15_000);
    bobWs.close();
    aliceWs.close();
  }, 60_000);

  test("cluster: concurrent senders on both gateways with retries → dense seqs, each message exactly once", async () => {
    const users = await Promise.all([newUser(A, "p"), newUser(B, "q"), newUser(A, "r")]);
    const conv = await call(A, "POST", "/v1/conversations", { token: users[0]!.token, body: { type: "group", members: users.slice(1).map((u) => u.id) } });
    const conversationId = conv.body.conversation_id;
    const n = 120;
    const keys = Array.from({ length: n }, () => crypto.randomUUID());
    await Promise.all(
      keys.map(async (k, i) => {
        const u = users[i % 3]!;
        const body = { idempotency_key: k, conversation_id: conversationId, content: `m${i}` };
        // Each message is sent twice, through both gateways (a client retry after a lost response).
        const [r1, r2] = await Promise.all([call(A, "POST", "/v1/messages", { token: u.token, body }), call(B, "POST", "/v1/messages", { token: u.token, body })]);
        expect(r1.status).toBe(202);
        expect(r2.status).toBe(202);
      }),
    );
    const h = await eventually(async () => {
      const list = await history(B, users[1]!.token, conversationId);
      return list.length >= n ? list : undefined;
    }, 30_000);
    await Bun.sleep(1_000);
    const final = await history(A, users[0]!.token, conversationId);
    expect(final.length).toBe(n);
    expect(final.map((m) => m.sequence_number)).toEqual(Array.from({ length: n }, (_, i) => n - i));
    expect(new Set(final.map((m) => m.message_id))).toEqual(new Set(keys));
    expect(h.length).toBe(n);
  }, 90_000);

  test("cluster: ingest killed (SIGKILL) mid-stream and restarted → no loss, no duplicates", async () => {
    const a = await newUser(A, "k");
    const b = await newUser(B, "l");
    const conv = await call(A, "POST", "/v1/conversations", { token: a.token, body: { type: "private", members: [b.id] } });
    const conversationId = conv.body.conversation_id;
    const keys: string[] = [];
    const sendSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const k = crypto.randomUUID();
        keys.push(k);
        const r = await call(i % 2 ? A : B, "POST", "/v1/messages", { token: a.token, body: { idempotency_key: k, conversation_id: conversationId, content: `x${keys.length}` } });
        expect(r.status).toBe(202);
      }
    };
    const first = sendSome(60);
    await Bun.sleep(50);
    await clusterApp("kill", "ingest");
    await first;
    await sendSome(20); // accepted while ingest is down: durable in Kafka
    await clusterApp("start", "ingest");
    const final = await eventually(async () => {
      const list = await history(A, a.token, conversationId);
      return list.length >= keys.length ? list : undefined;
    }, 60_000);
    await Bun.sleep(1_000);
    const settled = await history(A, a.token, conversationId);
    expect(settled.length).toBe(keys.length);
    expect(settled.map((m) => m.sequence_number)).toEqual(Array.from({ length: keys.length }, (_, i) => keys.length - i));
    expect(new Set(settled.map((m) => m.message_id))).toEqual(new Set(keys));
    expect(final.length).toBe(keys.length);
  }, 120_000);

  test("cluster: a membership change on one gateway takes effect on the other within a second", async () => {
    const owner = await newUser(A, "own");
    const m1 = await newUser(B, "mem");
    const conv = await call(A, "POST", "/v1/conversations", { token: owner.token, body: { type: "group", members: [m1.id] } });
    const conversationId = conv.body.conversation_id;
    // Warm gateway B's membership cache.
    expect((await call(B, "GET", `/v1/messages/${conversationId}`, { token: m1.token })).status).toBe(200);
    const removed = await call(A, "DELETE", `/v1/conversations/${conversationId}/members/${m1.id}`, { token: owner.token });
    expect(removed.status).toBe(200);
    await eventually(async () => (await call(B, "GET", `/v1/messages/${conversationId}`, { token: m1.token })).status === 403, 1_000, 20);
  }, 30_000);

  test("cluster: /ready reports every dependency", async () => {
    for (const base of [A, B]) {
      const r = await call(base, "GET", "/ready");
      expect(r.status).toBe(200);
      expect(r.body.checks).toEqual({ events: true, metadata: true, messages: true, ephemeral: true, bus: true });
    }
  });
});
