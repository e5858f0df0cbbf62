// Real-time across gateway instances: devices of one user on both instances, reconnect storms
// with RESUME, and sockets killed in the middle of a replay.
import { describe, expect, test } from "bun:test";
import { subjects } from "@chat4all/bus";
import { encodeDelivery } from "@chat4all/pipeline";
import { connect } from "nats";
import { call, eventually, newUser, openSocket } from "../support/client.ts";
import { clusterApp } from "../support/cluster.ts";

const A = process.env.C4A_GATEWAY_A ?? "http://127.0.0.1:3000";
const B = process.env.C4A_GATEWAY_B ?? "http://127.0.0.1:3001";
type User = Awaited<ReturnType<typeof newUser>>;

async function group(owner: User, members: User[]) {
  const r = await call(A, "POST", "/v1/conversations", { token: owner.token, body: { type: "group", members: members.map((m) => m.id) } });
  expect(r.status).toBe(201);
  return r.body.conversation_id as string;
}
const send = (u: User, conversationId: string, content: string, base = A) =>
  call(base, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content } });

describe("realtime across instances", () => {
  test("cluster: two devices of one user on two instances each receive every message and receipt", async () => {
    const ana = await newUser(A, "ana");
    const bo = await newUser(B, "bo");
    const conversationId = await group(ana, [bo]);
    const [boOnA, boOnB, anaOnA, anaOnB] = await Promise.all([openSocket(A, bo.token), openSocket(B, bo.token), openSocket(A, ana.token), openSocket(B, ana.token)]);
    for (let i = 0; i < 5; i++) await send(ana, conversationId, `m${i}`, i % 2 ? A : B);
    for (const ws of [boOnA, boOnB, anaOnA, anaOnB])
      await eventually(async () => ws.frames.filter((f) => f.type === "MESSAGE").map((f) => f.sequence_number).join() === "1,2,3,4,5", 15_000);
    boOnB.send({ type: "READ", conversation_id: conversationId, sequence_number: 5 });
    for (const ws of [anaOnA, anaOnB]) expect(await ws.next((f) => f.type === "STATUS_UPDATE", 15_000)).toMatchObject({ sequence_number: 5, status: "READ", read_by: bo.id });
    for (const ws of [boOnA, boOnB, anaOnA, anaOnB]) ws.close();
  }, 60_000);

  test("cluster: a reconnect storm with RESUME catches every client up with no gap and no duplicate", async () => {
    const owner = await newUser(A, "storm");
    const members = await Promise.all(Array.from({ length: 20 }, (_, i) => newUser(i % 2 ? A : B, "storm")));
    const conversationId = await group(owner, members);
    // The "before" traffic is fully delivered first (an observer socket saw its last message): a
    // socket opened while fanout still publishes it would get those frames live AND replayed, as it
    // asked from an older position.
    const observer = await openSocket(B, members[0]!.token);
    for (let i = 0; i < 60; i++) await send(owner, conversationId, `before ${i}`, i % 2 ? A : B);
    await observer.next((f) => f.type === "MESSAGE" && f.sequence_number === 60, 30_000);
    observer.close();
    // 100 sockets (5 devices per member) reconnect at once, each from a different last-seen position.
    const clients = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const u = members[i % members.length]!;
        const ws = await openSocket(i % 2 ? A : B, u.token);
        const from = i % 40;
        ws.send({ type: "RESUME", positions: { [conversationId]: from } });
        return { ws, from };
      }),
    );
    // Every RESUME is being handled (its first replayed frame arrived) before the live traffic starts:
    // a live frame that reached a socket before its RESUME was handled would come again in the replay
    // (docs/websocket-protocol.md); from here on each socket must get every seq once, in order.
    await Promise.all(clients.map(({ ws, from }) => ws.next((f) => f.type === "MESSAGE" && f.sequence_number === from + 1, 30_000)));
    // Live traffic during the storm (replays and tails of the live stream may still be running).
    for (let i = 0; i < 20; i++) await send(owner, conversationId, `during ${i}`, i % 2 ? A : B);
    for (const { ws, from } of clients) {
      await eventually(async () => ws.frames.filter((f) => f.type === "MESSAGE" && f.sequence_number === 80).length > 0, 30_000);
      const seqs = ws.frames.filter((f) => f.type === "MESSAGE").map((f) => f.sequence_number);
      expect(seqs).toEqual(Array.from({ length: 80 - from }, (_, k) => from + 1 + k));
      expect(ws.frames.some((f) => f.type === "RESUMED")).toBe(true);
      ws.close();
    }
  }, 120_000);

  test("cluster: sockets killed in the middle of a replay leave the instance healthy", async () => {
    const owner = await newUser(A, "mid");
    const reader = await newUser(B, "mid");
    const conversationId = await group(owner, [reader]);
    await Promise.all(Array.from({ length: 300 }, (_, i) => send(owner, conversationId, `bulk ${i}`, i % 2 ? A : B)));
    await eventually(async () => (await call(A, "GET", `/v1/conversations/${conversationId}`, { token: owner.token })).body.last_sequence_number >= 300, 30_000);
    for (let i = 0; i < 10; i++) {
      const ws = await openSocket(B, reader.token);
      ws.send({ type: "RESUME", positions: { [conversationId]: 0 } });
      await ws.next((f) => f.type === "MESSAGE");
      ws.ws.close();
    }
    const ws = await openSocket(B, reader.token);
    ws.send({ type: "RESUME", positions: { [conversationId]: 0 } });
    await ws.next((f) => f.type === "RESUMED", 30_000);
    expect(ws.frames.filter((f) => f.type === "MESSAGE").length).toBe(300);
    expect((await call(B, "GET", "/ready")).status).toBe(200);
    ws.close();
  }, 120_000);

  test("cluster: live frames that fanout publishes after a replay already sent them from the store are not repeated", async () => {
    const owner = await newUser(A, "lag");
    const reader = await newUser(B, "lag");
    const conversationId = await group(owner, [reader]);
    for (let i = 1; i <= 3; i++) await send(owner, conversationId, `m${i}`);
    await eventually(async () => (await call(A, "GET", `/v1/conversations/${conversationId}`, { token: owner.token })).body.last_sequence_number >= 3, 20_000);
    const ws = await openSocket(B, reader.token);
    ws.send({ type: "RESUME", positions: { [conversationId]: 0 } });
    expect(await ws.next((f) => f.type === "RESUMED", 15_000)).toMatchObject({ from_sequence: 0, to_sequence: 3 });
    // Fanout running behind the store: the live frames of seqs 2 and 3 reach the Bus only now.
    const nc = await connect({ servers: process.env.C4A_NATS_URL?.split(",") });
    try {
      for (const seq of [2, 3]) {
        const frame = JSON.stringify({ type: "MESSAGE", conversation_id: conversationId, sequence_number: seq, content: `late ${seq}` });
        nc.publish(subjects.conversation(conversationId), encodeDelivery({ kind: "m", conversationId, seq, frame }));
      }
      await nc.flush();
      await send(owner, conversationId, "m4");
      await ws.next((f) => f.type === "MESSAGE" && f.sequence_number === 4, 15_000);
      // From the first newer frame on, the socket is back on native delivery: the next message arrives once.
      await send(owner, conversationId, "m5");
      await ws.next((f) => f.type === "MESSAGE" && f.sequence_number === 5, 15_000);
      await Bun.sleep(300);
      const got = ws.frames.filter((f) => f.type === "MESSAGE");
      expect(got.map((f) => f.sequence_number)).toEqual([1, 2, 3, 4, 5]);
      expect(got.map((f) => f.content)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    } finally {
      await nc.close();
      ws.close();
    }
  }, 60_000);

  test("cluster: a socket that cannot be set up because metadata is down is closed with 1013 (retry), not 1008 (bad token)", async () => {
    const u = await newUser(A, "down");
    await clusterApp("kill", "metadata");
    try {
      const ws = await openSocket(B, u.token);
      expect((await ws.waitClosed(15_000))?.code).toBe(1013);
    } finally {
      await clusterApp("start", "metadata");
    }
    const again = await eventually(async () => {
      const ws = await openSocket(B, u.token);
      await Bun.sleep(300);
      if (ws.closed) return undefined;
      return ws;
    }, 30_000, 500);
    again.close();
  }, 90_000);
});
