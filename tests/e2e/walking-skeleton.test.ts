// The whole platform in one process (as `bun run dev` runs it), used as a client that knows only API.md.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, eventually, newUser, openSocket } from "../support/client.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

let p: Platform;
beforeAll(async () => {
  p = await startEmbedded();
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

describe("embedded platform", () => {
  test("walking skeleton: register, token, private conversation, send, live delivery, history, read receipt", async () => {
    const alice = await newUser(p.url, "alice");
    const bob = await newUser(p.url, "bob");

    const conv = await call(p.url, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } });
    expect(conv.status).toBe(201);
    const conversationId = conv.body.conversation_id as string;
    expect(typeof conv.body.created_at).toBe("string");

    const again = await call(p.url, "POST", "/v1/conversations", { token: bob.token, body: { type: "private", members: [alice.id] } });
    expect([200, 201]).toContain(again.status);
    expect(again.body.conversation_id).toBe(conversationId);

    const bobWs = await openSocket(p.url, bob.token);
    const aliceWs = await openSocket(p.url, alice.token);

    const key = crypto.randomUUID();
    const sent = await call(p.url, "POST", "/v1/messages", { token: alice.token, body: { idempotency_key: key, conversation_id: conversationId, content: "hello bob" } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: "queued", message_id: key });

    // The recipient's first frame is the message.
    const first = await bobWs.next();
    expect(first).toMatchObject({ type: "MESSAGE", message_id: key, conversation_id: conversationId, sender_id: alice.id, content: "hello bob", message_type: "text", sequence_number: 1 });
    expect(first.target_channels).toEqual(["delivery"]);

    const history = await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: bob.token });
    expect(history.status).toBe(200);
    expect(history.body).toHaveLength(1);
    expect(history.body[0]).toMatchObject({ message_id: key, sequence_number: 1, sender_id: alice.id, content: "hello bob" });

    const read = await call(p.url, "PATCH", "/v1/messages/status", {
      token: bob.token,
      body: { conversation_id: conversationId, message_id: key, sequence_number: 1, status: "READ" },
    });
    expect(read.status).toBe(202);
    expect(read.body).toEqual({ status: "processing", updated_to: "READ" });

    const update = await aliceWs.next((f) => f.type === "STATUS_UPDATE");
    expect(update).toMatchObject({ conversation_id: conversationId, message_id: key, sequence_number: 1, status: "READ", read_by: bob.id });

    const senderView = await eventually(async () => {
      const h = await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: alice.token });
      return h.body[0]?.status === "READ" ? h.body : undefined;
    });
    expect(senderView[0].status).toBe("READ");
    bobWs.close();
    aliceWs.close();
  });

  test("sequence numbers are dense and one idempotency key makes one message", async () => {
    const a = await newUser(p.url, "a");
    const b = await newUser(p.url, "b");
    const conv = await call(p.url, "POST", "/v1/conversations", { token: a.token, body: { type: "group", members: [b.id] } });
    const conversationId = conv.body.conversation_id;
    const keys = Array.from({ length: 30 }, () => crypto.randomUUID());
    const sends = keys.flatMap((k, i) => {
      const sender = i % 2 ? a : b;
      const body = { idempotency_key: k, conversation_id: conversationId, content: `m${i}` };
      return [call(p.url, "POST", "/v1/messages", { token: sender.token, body }), call(p.url, "POST", "/v1/messages", { token: sender.token, body })];
    });
    for (const r of await Promise.all(sends)) expect(r.status).toBe(202);
    const history = await eventually(async () => {
      const h = await call(p.url, "GET", `/v1/messages/${conversationId}?limit=100`, { token: a.token });
      return h.body.length >= 30 ? h.body : undefined;
    });
    await Bun.sleep(300);
    const final = (await call(p.url, "GET", `/v1/messages/${conversationId}?limit=100`, { token: a.token })).body as any[];
    expect(final).toHaveLength(30);
    expect(final.map((m) => m.sequence_number)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    expect(new Set(final.map((m) => m.message_id))).toEqual(new Set(keys));
    expect(history.length).toBe(30);
  });

  test("unread counts exclude the caller's own messages and drop to zero after READ", async () => {
    const a = await newUser(p.url, "ua");
    const b = await newUser(p.url, "ub");
    const conversationId = (await call(p.url, "POST", "/v1/conversations", { token: a.token, body: { type: "private", members: [b.id] } })).body.conversation_id;
    for (const [u, text] of [[a, "1"], [b, "2"], [a, "3"]] as const)
      await call(p.url, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content: text } });
    const unread = async (token: string) => {
      const list = (await call(p.url, "GET", "/v1/conversations", { token })).body as any[];
      return list.find((c) => c.conversation_id === conversationId);
    };
    await eventually(async () => (await unread(a.token))?.last_sequence_number === 3);
    await eventually(async () => (await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: a.token })).body.length === 3);
    expect((await unread(a.token)).unread_count).toBe(1);
    expect((await unread(b.token)).unread_count).toBe(2);
    await call(p.url, "PATCH", "/v1/messages/status", { token: b.token, body: { conversation_id: conversationId, message_id: crypto.randomUUID(), sequence_number: 3, status: "READ" } });
    await eventually(async () => (await unread(b.token)).unread_count === 0);
  });

  test("data survives a restart of the process", async () => {
    const u = await newUser(p.url, "persist");
    const v = await newUser(p.url, "persist");
    const conv = await call(p.url, "POST", "/v1/conversations", { token: u.token, body: { type: "private", members: [v.id] } });
    await call(p.url, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conv.body.conversation_id, content: "kept" } });
    await eventually(async () => (await call(p.url, "GET", `/v1/messages/${conv.body.conversation_id}`, { token: u.token })).body.length === 1);
    expect(await p.stop()).toBe(0);
    p = await startEmbedded({}, p.dataDir);
    const login = await call(p.url, "POST", "/auth/token", { body: { username: u.username, password: u.password } });
    expect(login.status).toBe(200);
    const h = await call(p.url, "GET", `/v1/messages/${conv.body.conversation_id}`, { token: login.body.access_token });
    expect(h.body.map((m: any) => m.content)).toEqual(["kept"]);
  }, 60_000);
});
