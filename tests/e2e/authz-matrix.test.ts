// Authorization matrix: every REST endpoint and every WebSocket frame type × every kind of caller,
// from one table. The table must cover every route the gateway documents in /docs/json and every
// client frame type of the protocol, so a new endpoint or frame cannot ship without a row.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTokenSigner } from "@chat4all/auth";
import { ClientFrame } from "@chat4all/gateway";
import { ChatService } from "@chat4all/proto/chat4all/v1/chat_pb";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { call, newUser, openSocket } from "../support/client.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

const SECRET = "authz-matrix-secret-0123456789-abcdefghijklmnop";
const PRINCIPALS = ["none", "expired", "forged", "nonMember", "removed", "member", "admin"] as const;
type Principal = (typeof PRINCIPALS)[number];
type User = Awaited<ReturnType<typeof newUser>>;

/** Routes that are public by design (they authenticate otherwise or not at all). */
const PUBLIC = [/^POST \/auth\//, /^GET \/(health|ready|metrics)$/, /^POST \/webhooks\//, /^GET \/docs/, /^(GET|POST|PUT) \/blobs/];

let p: Platform;
let owner: User;
let admin: User;
let member: User;
let removed: User;
let outsider: User;
let conversationId: string;
let messageId: string;
let fileKey: string;
let uploadIdOfOwner: string;
const tokens = {} as Record<Principal, string | undefined>;

beforeAll(async () => {
  p = await startEmbedded({ C4A_JWT_SECRET: SECRET, C4A_SEND_RATE_PER_MIN: "0" });
  [owner, admin, member, removed, outsider] = (await Promise.all(["owner", "admin", "member", "removed", "outsider"].map((n) => newUser(p.url, n)))) as [User, User, User, User, User];
  const conv = await call(p.url, "POST", "/v1/conversations", { token: owner.token, body: { type: "group", members: [member.id, removed.id] } });
  conversationId = conv.body.conversation_id;
  expect((await call(p.url, "POST", `/v1/conversations/${conversationId}/members`, { token: owner.token, body: { user_id: admin.id, role: "admin" } })).status).toBe(201);
  messageId = crypto.randomUUID();
  await call(p.url, "POST", "/v1/messages", { token: owner.token, body: { idempotency_key: messageId, conversation_id: conversationId, content: "secret" } });
  // A file the owner sent in the conversation (before `removed` was removed), and an open multipart upload of the owner's.
  const presigned = (await call(p.url, "POST", "/v1/files/presigned-url", { token: owner.token, body: { filename: "note.txt", content_type: "text/plain", size_bytes: 6 } })).body;
  const form = new FormData();
  for (const [k, v] of Object.entries(presigned.fields as Record<string, string>)) form.append(k, v);
  form.append("file", new Blob(["secret"]), "note.txt");
  expect((await fetch(presigned.upload_url, { method: "POST", body: form })).status).toBe(204);
  fileKey = presigned.file_key;
  const attach = await call(p.url, "POST", "/v1/messages", {
    token: owner.token,
    body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, message_type: "file", content: "", attachments: { file_key: fileKey, original_name: "note.txt", size: 6 } },
  });
  expect(attach.status).toBe(202);
  uploadIdOfOwner = (await call(p.url, "POST", "/v1/files/multipart", { token: owner.token, body: { filename: "big.bin", content_type: "application/zip", size_bytes: 6 * 1024 * 1024 } })).body.upload_id;
  for (let i = 0; i < 100; i++) {
    const h = await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: owner.token });
    if (h.body.length === 1) break;
    await Bun.sleep(50);
  }
  expect((await call(p.url, "DELETE", `/v1/conversations/${conversationId}/members/${removed.id}`, { token: owner.token })).status).toBe(200);
  const signer = createTokenSigner(SECRET);
  const forger = createTokenSigner("an-attacker-secret-0123456789-abcdefghijklmnop");
  tokens.none = undefined;
  tokens.expired = await signer.sign({ sub: member.id, username: member.username }, 60, Date.now() - 3_600_000);
  tokens.forged = await forger.sign({ sub: member.id, username: member.username }, 600);
  tokens.nonMember = outsider.token;
  tokens.removed = removed.token;
  tokens.member = member.token;
  tokens.admin = admin.token;
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

type Req = { method: string; path: string; body?: unknown };
type Outcome = number | ((r: { status: number; body: any }) => void);
interface Row {
  route: string;
  request: (who: Principal) => Promise<Req> | Req;
  expect: Partial<Record<"nonMember" | "removed" | "member" | "admin", Outcome>>;
}

const ok = (status: number) => status;
const noConversationLeak = (r: { status: number; body: any }) => {
  expect(r.status).toBe(200);
  expect(JSON.stringify(r.body)).not.toContain(conversationId);
};
const noMessageLeak = (r: { status: number; body: any }) => {
  expect(r.status).toBe(200);
  expect(JSON.stringify(r.body)).not.toContain("secret");
};
const since = () => new Date(Date.now() - 3_600_000).toISOString();
const fileRefused = (r: { status: number; body: any }) => {
  expect(r.status).toBe(403);
  expect(r.body.error.code).toBe("FILE_NOT_ACCESSIBLE");
};
const noSuchUpload = (r: { status: number; body: any }) => {
  expect(r.status).toBe(404);
  expect(r.body.error.code).toBe("NO_SUCH_UPLOAD");
};

/** A throwaway group member for membership-changing rows. */
async function extraMember(): Promise<string> {
  const u = await newUser(p.url, "extra");
  await call(p.url, "POST", `/v1/conversations/${conversationId}/members`, { token: owner.token, body: { user_id: u.id } });
  return u.id;
}

const ROWS: Row[] = [
  { route: "GET /v1/users", request: () => ({ method: "GET", path: "/v1/users?limit=5" }), expect: { nonMember: 200, removed: 200, member: 200, admin: 200 } },
  { route: "GET /v1/users/me", request: () => ({ method: "GET", path: "/v1/users/me" }), expect: { nonMember: 200, removed: 200, member: 200, admin: 200 } },
  {
    route: "POST /v1/users/me/identities",
    request: () => ({ method: "POST", path: "/v1/users/me/identities", body: { channel: "instagram", external_id: `ig_${crypto.randomUUID().slice(0, 8)}` } }),
    expect: { nonMember: 201, removed: 201, member: 201, admin: 201 },
  },
  { route: "GET /v1/users/me/identities", request: () => ({ method: "GET", path: "/v1/users/me/identities" }), expect: { nonMember: 200, removed: 200, member: 200, admin: 200 } },
  {
    route: "POST /v1/conversations",
    request: () => ({ method: "POST", path: "/v1/conversations", body: { type: "group", members: [owner.id] } }),
    expect: { nonMember: 201, removed: 201, member: 201, admin: 201 },
  },
  { route: "GET /v1/conversations", request: () => ({ method: "GET", path: "/v1/conversations" }), expect: { nonMember: noConversationLeak, removed: noConversationLeak, member: 200, admin: 200 } },
  { route: "GET /v1/conversations/{id}", request: () => ({ method: "GET", path: `/v1/conversations/${conversationId}` }), expect: { nonMember: 403, removed: 403, member: 200, admin: 200 } },
  {
    route: "POST /v1/conversations/{id}/members",
    request: async () => ({ method: "POST", path: `/v1/conversations/${conversationId}/members`, body: { user_id: (await newUser(p.url, "new")).id } }),
    expect: { nonMember: 403, removed: 403, member: 403, admin: 201 },
  },
  {
    route: "DELETE /v1/conversations/{id}/members/{user_id}",
    request: async () => ({ method: "DELETE", path: `/v1/conversations/${conversationId}/members/${await extraMember()}` }),
    expect: { nonMember: 403, removed: 403, member: 403, admin: 200 },
  },
  {
    route: "POST /v1/messages",
    request: () => ({ method: "POST", path: "/v1/messages", body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content: "hi" } }),
    expect: { nonMember: 403, removed: 403, member: 202, admin: 202 },
  },
  {
    route: "PATCH /v1/messages/status",
    request: () => ({ method: "PATCH", path: "/v1/messages/status", body: { conversation_id: conversationId, message_id: messageId, sequence_number: 1, status: "READ" } }),
    expect: { nonMember: 403, removed: 403, member: 202, admin: 202 },
  },
  { route: "GET /v1/messages/{conversation_id}", request: () => ({ method: "GET", path: `/v1/messages/${conversationId}` }), expect: { nonMember: 403, removed: 403, member: 200, admin: 200 } },
  {
    route: "POST /v1/files/presigned-url",
    request: () => ({ method: "POST", path: "/v1/files/presigned-url", body: { filename: "a.png", content_type: "image/png", size_bytes: 10 } }),
    expect: { nonMember: 200, removed: 200, member: 200, admin: 200 },
  },
  {
    route: "POST /v1/files/multipart",
    request: () => ({ method: "POST", path: "/v1/files/multipart", body: { filename: "a.zip", content_type: "application/zip", size_bytes: 6 * 1024 * 1024 } }),
    expect: { nonMember: 200, removed: 200, member: 200, admin: 200 },
  },
  {
    // Only the uploader may complete or abort: everyone else learns nothing (404).
    route: "POST /v1/files/multipart/{upload_id}/complete",
    request: () => ({ method: "POST", path: `/v1/files/multipart/${uploadIdOfOwner}/complete`, body: { parts: [{ part_number: 1, etag: "x" }] } }),
    expect: { nonMember: noSuchUpload, removed: noSuchUpload, member: noSuchUpload, admin: noSuchUpload },
  },
  {
    route: "DELETE /v1/files/multipart/{upload_id}",
    request: () => ({ method: "DELETE", path: `/v1/files/multipart/${uploadIdOfOwner}` }),
    expect: { nonMember: noSuchUpload, removed: noSuchUpload, member: noSuchUpload, admin: noSuchUpload },
  },
  {
    route: "GET /v1/files/view/*",
    request: () => ({ method: "GET", path: `/v1/files/view/${fileKey}` }),
    expect: { nonMember: fileRefused, removed: fileRefused, member: 200, admin: 200 },
  },
  { route: "GET /v1/sync", request: () => ({ method: "GET", path: `/v1/sync?since=${encodeURIComponent(since())}` }), expect: { nonMember: noMessageLeak, removed: noMessageLeak, member: 200, admin: 200 } },
];

describe("authorization matrix", () => {
  test("authz: the table has a row for every documented route that is not public", async () => {
    const docs = await call(p.url, "GET", "/docs/json");
    expect(docs.status).toBe(200);
    const routes = Object.entries(docs.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\/$/, "")}`),
    );
    const uncovered = routes.filter((r) => !PUBLIC.some((re) => re.test(r)) && !ROWS.some((row) => row.route === r));
    expect(uncovered).toEqual([]);
    const stale = ROWS.filter((row) => !routes.includes(row.route)).map((r) => r.route);
    expect(stale).toEqual([]);
  });

  for (const row of ROWS)
    for (const who of PRINCIPALS)
      test(`authz: ${row.route} as ${who}`, async () => {
        const req = await row.request(who);
        const r = await call(p.url, req.method, req.path, { token: tokens[who], body: req.body });
        if (who === "none" || who === "expired" || who === "forged") {
          expect(r.status).toBe(401);
          expect(r.body.error.code).toBe(who === "none" ? "MISSING_TOKEN" : who === "expired" ? "TOKEN_EXPIRED" : "INVALID_TOKEN");
          return;
        }
        const want = row.expect[who];
        if (typeof want === "function") return want(r);
        expect(r.status).toBe(ok(want ?? -1));
        if (r.status === 403) {
          expect(r.body.error.code).toMatch(/^NOT_A_MEMBER|NOT_AN_ADMIN$/);
          expect(JSON.stringify(r.body)).not.toContain("secret");
        }
      });
});

/** What each client frame does for each caller: the expected reply frame type (or "none"). */
const FRAME_ROWS: Record<string, { frame: () => Record<string, unknown>; member: string; outsider: string }> = {
  PING: { frame: () => ({ type: "PING" }), member: "PONG", outsider: "PONG" },
  ACK: { frame: () => ({ type: "ACK", conversation_id: conversationId, sequence_number: 1 }), member: "none", outsider: "ERROR" },
  READ: { frame: () => ({ type: "READ", conversation_id: conversationId, sequence_number: 1 }), member: "none", outsider: "ERROR" },
  TYPING: { frame: () => ({ type: "TYPING", conversation_id: conversationId }), member: "none", outsider: "ERROR" },
  RESUME: { frame: () => ({ type: "RESUME", positions: { [conversationId]: 0 } }), member: "RESUMED", outsider: "ERROR" },
  SEND: { frame: () => ({ type: "SEND", idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content: "ws" }), member: "SENT", outsider: "ERROR" },
};

describe("websocket authorization matrix", () => {
  test("authz: the table has a row for every client frame type", () => {
    const types = ClientFrame.options.map((o) => o.entries.type.literal);
    expect(Object.keys(FRAME_ROWS).sort()).toEqual([...types].sort());
  });

  for (const who of ["none", "expired", "forged"] as const)
    test(`authz: websocket as ${who} is closed with 1008`, async () => {
      const ws = await openSocket(p.url, tokens[who] ?? "");
      expect((await ws.waitClosed())?.code).toBe(1008);
    });

  for (const [type, row] of Object.entries(FRAME_ROWS))
    for (const who of ["nonMember", "removed", "member", "admin"] as const)
      test(`authz: ${type} frame as ${who}`, async () => {
        const ws = await openSocket(p.url, tokens[who]!);
        const frame = row.frame();
        ws.send(frame);
        ws.send({ type: "PING" }); // a marker: replies come in order
        const want = who === "member" || who === "admin" ? row.member : row.outsider;
        const pongs = type === "PING" ? 2 : 1;
        await ws.next(() => ws.frames.filter((x) => x.type === "PONG").length >= pongs);
        const marker = ws.frames.findLastIndex((f) => f.type === "PONG");
        const replies = ws.frames.slice(0, marker).filter((f) => f.type !== "MESSAGE" && f.type !== "STATUS_UPDATE" && f.type !== "PRESENCE" && f.type !== "TYPING");
        if (want === "none") expect(replies).toEqual([]);
        else if (want === "ERROR") {
          expect(replies.map((f) => f.type)).toEqual(["ERROR"]);
          expect(replies[0].code).toBe("NOT_A_MEMBER");
        } else if (want === "RESUMED") {
          const resumed = await ws.next((f) => f.type === "RESUMED");
          expect(resumed.conversation_id).toBe(conversationId);
        } else expect(replies.map((f) => f.type)).toContain(want);
        const leaked = ws.frames.filter((f) => f.type === "MESSAGE" && f.content === "secret");
        if (who === "nonMember" || who === "removed") expect(leaked).toEqual([]);
        ws.close();
      });

  test("authz: a removed member's open socket stops receiving at once", async () => {
    const extra = await newUser(p.url, "leaver");
    await call(p.url, "POST", `/v1/conversations/${conversationId}/members`, { token: owner.token, body: { user_id: extra.id } });
    const ws = await openSocket(p.url, extra.token);
    const before = crypto.randomUUID();
    await call(p.url, "POST", "/v1/messages", { token: owner.token, body: { idempotency_key: before, conversation_id: conversationId, content: "before" } });
    await ws.next((f) => f.type === "MESSAGE" && f.message_id === before);
    expect((await call(p.url, "DELETE", `/v1/conversations/${conversationId}/members/${extra.id}`, { token: owner.token })).status).toBe(200);
    const after = crypto.randomUUID();
    await call(p.url, "POST", "/v1/messages", { token: owner.token, body: { idempotency_key: after, conversation_id: conversationId, content: "after" } });
    // The owner's own socket proves the message went out; the removed member's must not see it.
    const ownerWs = await openSocket(p.url, owner.token);
    ownerWs.send({ type: "RESUME", positions: { [conversationId]: 0 } });
    await ownerWs.next((f) => f.type === "MESSAGE" && f.message_id === after);
    await Bun.sleep(300);
    expect(ws.frames.some((f) => f.message_id === after)).toBe(false);
    ws.close();
    ownerWs.close();
  });
});

/** Every ChatService method × caller: "ok" or the Connect code expected. */
type Rpc = ReturnType<typeof createClient<typeof ChatService>>;
const RPC_ROWS: Record<string, { run: (c: Rpc) => Promise<unknown>; member: "ok"; outsider: "ok" | Code }> = {
  sendMessage: { run: (c) => c.sendMessage({ idempotencyKey: crypto.randomUUID(), conversationId, content: "rpc" }), member: "ok", outsider: Code.PermissionDenied },
  listMessages: { run: (c) => c.listMessages({ conversationId }), member: "ok", outsider: Code.PermissionDenied },
  createConversation: { run: (c) => c.createConversation({ type: "group", members: [owner.id] }), member: "ok", outsider: "ok" },
  listConversations: {
    run: async (c) => {
      const r = await c.listConversations({});
      return r.conversations.some((x) => x.conversationId === conversationId) ? "visible" : "hidden";
    },
    member: "ok",
    outsider: "ok",
  },
  getConversation: { run: (c) => c.getConversation({ conversationId }), member: "ok", outsider: Code.PermissionDenied },
  markRead: { run: (c) => c.markRead({ conversationId, sequenceNumber: 1n }), member: "ok", outsider: Code.PermissionDenied },
  markDelivered: { run: (c) => c.markDelivered({ conversationId, sequenceNumber: 1n }), member: "ok", outsider: Code.PermissionDenied },
  subscribe: {
    run: async (c) => {
      for await (const ev of c.subscribe({ positions: { [conversationId]: 0n } })) return ev.event.case;
    },
    member: "ok",
    outsider: Code.PermissionDenied,
  },
};

describe("connect authorization matrix", () => {
  const rpc = (token?: string) =>
    createClient(ChatService, createConnectTransport({ baseUrl: p.url, interceptors: token ? [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] : [] }));

  test("authz: the table has a row for every ChatService method", () => {
    expect(Object.keys(RPC_ROWS).sort()).toEqual(ChatService.methods.map((m) => m.localName).sort());
  });

  for (const [method, row] of Object.entries(RPC_ROWS))
    for (const who of PRINCIPALS)
      test(`authz: ChatService.${method} as ${who}`, async () => {
        let result: unknown;
        let code: Code | "ok" = "ok";
        try {
          result = await row.run(rpc(tokens[who]));
        } catch (err) {
          code = ConnectError.from(err).code;
        }
        if (who === "none" || who === "expired" || who === "forged") return void expect(code).toBe(Code.Unauthenticated);
        const want = who === "member" || who === "admin" ? row.member : row.outsider;
        expect(code).toBe(want);
        if (method === "listConversations") expect(result).toBe(who === "member" || who === "admin" ? "visible" : "hidden");
      });
});
