// Real-time sessions: resume without gaps or duplicates while live traffic flows, multi-device,
// presence and typing, and a graceful drain on SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, eventually, newUser, openSocket } from "../support/client.ts";
import { openPausedSocket } from "../support/raw-ws.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

let p: Platform;
beforeAll(async () => {
  p = await startEmbedded({ C4A_SEND_RATE_PER_MIN: "0" });
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

type User = Awaited<ReturnType<typeof newUser>>;
async function pair() {
  const a = await newUser(p.url, "a");
  const b = await newUser(p.url, "b");
  const conversationId = (await call(p.url, "POST", "/v1/conversations", { token: a.token, body: { type: "private", members: [b.id] } })).body.conversation_id as string;
  return { a, b, conversationId };
}
const send = (u: User, conversationId: string, content: string) =>
  call(p.url, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content } });
const messagesOf = (frames: any[], conversationId: string) => frames.filter((f) => f.type === "MESSAGE" && f.conversation_id === conversationId).map((f) => f.sequence_number);
async function stored(u: User, conversationId: string, n: number) {
  await eventually(async () => {
    const c = await call(p.url, "GET", `/v1/conversations/${conversationId}`, { token: u.token });
    return c.body.last_sequence_number >= n;
  });
}

describe("realtime", () => {
  test("resume: replays every missed message in order, merges live traffic without gaps or duplicates, then RESUMED", async () => {
    const { a, b, conversationId } = await pair();
    for (let i = 1; i <= 450; i++) await send(a, conversationId, `old ${i}`);
    await stored(a, conversationId, 450);
    const ws = await openSocket(p.url, b.token);
    ws.send({ type: "RESUME", positions: { [conversationId]: 10 } });
    // Live messages while the replay runs.
    const live = Promise.all(Array.from({ length: 40 }, (_, i) => send(a, conversationId, `live ${i}`)));
    await live;
    await ws.next((f) => f.type === "RESUMED", 15_000);
    await eventually(async () => messagesOf(ws.frames, conversationId).length >= 480, 15_000);
    await Bun.sleep(200);
    const seqs = messagesOf(ws.frames, conversationId);
    expect(seqs).toEqual(Array.from({ length: 480 }, (_, i) => i + 11));
    const resumed = ws.frames.find((f) => f.type === "RESUMED");
    expect(resumed.from_sequence).toBe(10);
    expect(resumed.to_sequence).toBeGreaterThanOrEqual(450);
    ws.close();
  }, 60_000);

  test("resume: a duplicate RESUME and a position ahead of the stored seq are harmless", async () => {
    const { a, b, conversationId } = await pair();
    for (let i = 1; i <= 5; i++) await send(a, conversationId, `m${i}`);
    await stored(a, conversationId, 5);
    const ws = await openSocket(p.url, b.token);
    ws.send({ type: "RESUME", positions: { [conversationId]: 0 } });
    ws.send({ type: "RESUME", positions: { [conversationId]: 0 } });
    await ws.next((f) => f.type === "RESUMED");
    await Bun.sleep(200);
    expect(messagesOf(ws.frames, conversationId)).toEqual([1, 2, 3, 4, 5]);
    const ahead = await openSocket(p.url, b.token);
    ahead.send({ type: "RESUME", positions: { [conversationId]: 1000 } });
    const r = await ahead.next((f) => f.type === "RESUMED");
    expect(r).toMatchObject({ from_sequence: 1000, to_sequence: 1000 });
    await send(a, conversationId, "next");
    // Live delivery still flows after a resume from ahead (seq 6 is below the position, clients dedup).
    await ahead.next((f) => f.type === "MESSAGE" && f.sequence_number === 6);
    ws.close();
    ahead.close();
  });

  test("multi-device: every socket of a user receives messages and receipts; the sender's other device sees its own message", async () => {
    const { a, b, conversationId } = await pair();
    const [b1, b2, a1, a2] = await Promise.all([openSocket(p.url, b.token), openSocket(p.url, b.token), openSocket(p.url, a.token), openSocket(p.url, a.token)]);
    const r = await send(a, conversationId, "to every device");
    for (const ws of [b1, b2, a1, a2]) expect(await ws.next((f) => f.type === "MESSAGE")).toMatchObject({ message_id: r.body.message_id });
    b1.send({ type: "READ", conversation_id: conversationId, sequence_number: 1 });
    for (const ws of [a1, a2]) expect(await ws.next((f) => f.type === "STATUS_UPDATE")).toMatchObject({ status: "READ", read_by: b.id, sequence_number: 1 });
    for (const ws of [b1, b2, a1, a2]) ws.close();
  });

  test("receipts never move back: READ 3 then DELIVERED 2 and READ 1 leave READ at 3", async () => {
    const { a, b, conversationId } = await pair();
    for (let i = 1; i <= 3; i++) await send(a, conversationId, `m${i}`);
    await stored(a, conversationId, 3);
    const aws = await openSocket(p.url, a.token);
    const bws = await openSocket(p.url, b.token);
    bws.send({ type: "READ", conversation_id: conversationId, sequence_number: 3 });
    await aws.next((f) => f.type === "STATUS_UPDATE" && f.sequence_number === 3);
    bws.send({ type: "ACK", conversation_id: conversationId, sequence_number: 2 });
    bws.send({ type: "READ", conversation_id: conversationId, sequence_number: 1 });
    bws.send({ type: "PING" });
    await bws.next((f) => f.type === "PONG");
    await Bun.sleep(300);
    expect(aws.frames.filter((f) => f.type === "STATUS_UPDATE")).toHaveLength(1);
    const h = (await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: a.token })).body;
    expect(h.map((m: any) => m.status)).toEqual(["READ", "READ", "READ"]);
    aws.close();
    bws.close();
  });

  test("presence and typing reach the other member's interactive socket, never the sender's own", async () => {
    const { a, b, conversationId } = await pair();
    const bws = await openSocket(p.url, b.token);
    bws.send({ type: "PING" });
    await bws.next((f) => f.type === "PONG");
    const aws = await openSocket(p.url, a.token);
    expect(await bws.next((f) => f.type === "PRESENCE")).toMatchObject({ user_id: a.id, online: true });
    aws.send({ type: "TYPING", conversation_id: conversationId });
    expect(await bws.next((f) => f.type === "TYPING")).toMatchObject({ conversation_id: conversationId, user_id: a.id });
    aws.send({ type: "PING" });
    await aws.next((f) => f.type === "PONG");
    expect(aws.frames.some((f) => f.type === "TYPING" || (f.type === "PRESENCE" && f.user_id === a.id))).toBe(false);
    aws.close();
    expect(await bws.next((f) => f.type === "PRESENCE" && f.online === false)).toMatchObject({ user_id: a.id });
    bws.close();
  });

  test("presence: a RESUME is followed by who is online among the members of those conversations", async () => {
    const { a, b, conversationId } = await pair();
    const bws = await openSocket(p.url, b.token);
    const aws = await openSocket(p.url, a.token);
    aws.send({ type: "RESUME", positions: { [conversationId]: 0 } });
    await aws.next((f) => f.type === "RESUMED");
    expect(await aws.next((f) => f.type === "PRESENCE")).toMatchObject({ user_id: b.id, online: true });
    aws.close();
    bws.close();
  });

  test("backpressure: a socket that stops reading is closed with 4008 (slow consumer), the others keep receiving", async () => {
    const { a, b, conversationId } = await pair();
    const slow = await openPausedSocket(p.url, b.token);
    const fast = await openSocket(p.url, b.token);
    const big = "x".repeat(16_000);
    // ~24 MiB of frames: past the kernel's socket buffers and the per-socket bound, so the paused
    // socket must be cut off.
    for (let batch = 0; batch < 75; batch++)
      await Promise.all(
        Array.from({ length: 20 }, () =>
          call(p.url, "POST", "/v1/messages", { token: a.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content: big } }),
        ),
      );
    await eventually(async () => fast.frames.filter((f) => f.type === "MESSAGE").length >= 1500, 30_000);
    const { code, frames } = await slow.readUntilClose();
    expect(frames).toBeLessThan(1500);
    expect(code).toBe(4008);
    fast.close();
  }, 60_000);

  test("drain: SIGTERM closes every socket with 1012 and the process exits cleanly", async () => {
    const own = await startEmbedded();
    try {
      const u = await newUser(own.url, "drain");
      const sockets = await Promise.all([openSocket(own.url, u.token), openSocket(own.url, u.token)]);
      own.proc.kill("SIGTERM");
      for (const ws of sockets) expect((await ws.waitClosed(10_000))?.code).toBe(1012);
      expect(await own.proc.exited).toBe(0);
    } finally {
      own.proc.kill("SIGKILL");
      removeData(own.dataDir);
    }
  }, 60_000);
});
