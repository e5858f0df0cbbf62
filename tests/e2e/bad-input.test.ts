// Bad input never gets a 5xx, always the API's error shape, and writes nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, newUser, openSocket } from "../support/client.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

let p: Platform;
let alice: Awaited<ReturnType<typeof newUser>>;
let bob: Awaited<ReturnType<typeof newUser>>;
let conversationId: string;
beforeAll(async () => {
  p = await startEmbedded({ C4A_MAX_BODY_BYTES: "4096" });
  alice = await newUser(p.url, "alice");
  bob = await newUser(p.url, "bob");
  conversationId = (await call(p.url, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } })).body.conversation_id;
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

/** Asserts the API's error body: `{error: {code, message}}` with a SNAKE_CASE code. */
function expectError(body: any, code?: string) {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  expect(typeof body.error.message).toBe("string");
  if (code) expect(body.error.code).toBe(code);
}

describe("bad input", () => {
  const cases: [string, string, string, { body?: unknown; raw?: string; auth?: boolean }, number, string?][] = [
    ["malformed JSON on register", "POST", "/auth/register", { raw: '{"username":' }, 400, "MALFORMED_BODY"],
    ["missing fields on register", "POST", "/auth/register", { body: { username: "abc" } }, 400, "INVALID_REQUEST"],
    ["wrong types on register", "POST", "/auth/register", { body: { username: 12, password: true, email: [], name: {} } }, 400, "INVALID_REQUEST"],
    ["unicode username", "POST", "/auth/register", { body: { username: "ålice", password: "12345678", email: "x@example.test", name: "x" } }, 400, "INVALID_REQUEST"],
    ["short password", "POST", "/auth/register", { body: { username: "shorty", password: "1234", email: "s@example.test", name: "x" } }, 400, "INVALID_REQUEST"],
    ["unknown conversation type", "POST", "/v1/conversations", { auth: true, body: { type: "channel", members: [] } }, 400, "INVALID_REQUEST"],
    ["member ids that are not UUIDs", "POST", "/v1/conversations", { auth: true, body: { type: "group", members: ["x"] } }, 400, "INVALID_REQUEST"],
    ["unknown message type", "POST", "/v1/messages", { auth: true, body: { idempotency_key: crypto.randomUUID(), conversation_id: crypto.randomUUID(), content: "x", message_type: "video" } }, 400, "INVALID_REQUEST"],
    ["unknown target channel", "POST", "/v1/messages", { auth: true, body: { idempotency_key: crypto.randomUUID(), conversation_id: crypto.randomUUID(), content: "x", target_channels: ["sms"] } }, 400, "INVALID_REQUEST"],
    ["idempotency key not a UUID", "POST", "/v1/messages", { auth: true, body: { idempotency_key: "1", conversation_id: crypto.randomUUID(), content: "x" } }, 400, "INVALID_REQUEST"],
    ["status that does not exist", "PATCH", "/v1/messages/status", { auth: true, body: { conversation_id: crypto.randomUUID(), message_id: crypto.randomUUID(), sequence_number: 1, status: "SEEN" } }, 400, "INVALID_REQUEST"],
    ["history limit above 100", "GET", `/v1/messages/${crypto.randomUUID()}?limit=1000`, { auth: true }, 400, "INVALID_REQUEST"],
    ["sync without since", "GET", "/v1/sync", { auth: true }, 400, "INVALID_REQUEST"],
    ["oversized body", "POST", "/v1/messages", { auth: true, raw: JSON.stringify({ content: "x".repeat(10_000) }) }, 413, "BODY_TOO_LARGE"],
    ["unknown route", "GET", "/v1/nothing-here", {}, 404, "NOT_FOUND"],
    ["no token", "GET", "/v1/conversations", {}, 401, "MISSING_TOKEN"],
  ];
  for (const [name, method, path, opts, status, code] of cases) {
    test(`${name} → ${status}`, async () => {
      const r = await call(p.url, method, path, { token: opts.auth ? alice.token : undefined, body: opts.body, raw: opts.raw });
      expect(r.status).toBe(status);
      expectError(r.body, code);
    });
  }

  test("a taken username or email is 409 and creates nothing", async () => {
    const r = await call(p.url, "POST", "/auth/register", { body: { username: alice.username, password: "whatever-123", email: "other@example.test", name: "x" } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("USERNAME_TAKEN");
    const e = await call(p.url, "POST", "/auth/register", { body: { username: "fresh_name_1", password: "whatever-123", email: `${alice.username}@example.test`.toUpperCase(), name: "x" } });
    expect(e.status).toBe(409);
    expect(e.body.error.code).toBe("EMAIL_TAKEN");
    const login = await call(p.url, "POST", "/auth/token", { body: { username: "fresh_name_1", password: "whatever-123" } });
    expect(login.status).toBe(401);
  });

  test("wrong password and unknown user get the same 401", async () => {
    const a = await call(p.url, "POST", "/auth/token", { body: { username: alice.username, password: "wrong-password" } });
    const b = await call(p.url, "POST", "/auth/token", { body: { username: "nobody_here", password: "wrong-password" } });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.body).toEqual(b.body);
  });

  test("token accepts form-urlencoded credentials", async () => {
    const r = await call(p.url, "POST", "/auth/token", {
      raw: new URLSearchParams({ username: alice.username, password: alice.password }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", access_token: expect.any(String), refresh_token: expect.any(String) });
  });

  test("a refresh token rotates once; reusing the old one revokes the family", async () => {
    const first = await call(p.url, "POST", "/auth/refresh", { body: { refresh_token: alice.refresh } });
    expect(first.status).toBe(200);
    const reuse = await call(p.url, "POST", "/auth/refresh", { body: { refresh_token: alice.refresh } });
    expect(reuse.status).toBe(401);
    const revoked = await call(p.url, "POST", "/auth/refresh", { body: { refresh_token: first.body.refresh_token } });
    expect(revoked.status).toBe(401);
  });

  test("a non-member can neither send to, read, nor mark a conversation", async () => {
    const eve = await newUser(p.url, "eve");
    const send = await call(p.url, "POST", "/v1/messages", { token: eve.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content: "x" } });
    expect(send.status).toBe(403);
    expect(send.body.error.code).toBe("NOT_A_MEMBER");
    expect((await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: eve.token })).status).toBe(403);
    expect((await call(p.url, "GET", `/v1/conversations/${conversationId}`, { token: eve.token })).status).toBe(403);
    const mark = await call(p.url, "PATCH", "/v1/messages/status", { token: eve.token, body: { conversation_id: conversationId, message_id: crypto.randomUUID(), sequence_number: 1, status: "READ" } });
    expect(mark.status).toBe(403);
  });

  test("an idempotency key reused for another conversation is 409", async () => {
    const carol = await newUser(p.url, "carol");
    const other = (await call(p.url, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [carol.id] } })).body.conversation_id;
    const key = crypto.randomUUID();
    expect((await call(p.url, "POST", "/v1/messages", { token: alice.token, body: { idempotency_key: key, conversation_id: conversationId, content: "1" } })).status).toBe(202);
    const r = await call(p.url, "POST", "/v1/messages", { token: alice.token, body: { idempotency_key: key, conversation_id: other, content: "2" } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  test("websocket: a bad token closes with 1008; bad frames get ERROR and the socket stays open", async () => {
    const bad = await openSocket(p.url, "not-a-token");
    expect((await bad.waitClosed())?.code).toBe(1008);
    const ws = await openSocket(p.url, alice.token);
    ws.send({ type: "NOPE" });
    expect(await ws.next((f) => f.type === "ERROR")).toMatchObject({ code: "INVALID_FRAME" });
    ws.ws.send("{not json");
    expect(await ws.next((f) => f.type === "ERROR" && f.code === "MALFORMED_FRAME")).toBeTruthy();
    ws.send({ type: "PING" });
    expect(await ws.next((f) => f.type === "PONG")).toBeTruthy();
    ws.close();
  });
});
