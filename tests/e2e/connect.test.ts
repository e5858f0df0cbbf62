// The Connect ChatService as a browser uses it: @connectrpc/connect-web over HTTP/1.1 (fetch).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatService } from "@chat4all/proto/chat4all/v1/chat_pb";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { call, newUser } from "../support/client.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

let p: Platform;
beforeAll(async () => {
  p = await startEmbedded({ C4A_CORS_ORIGINS: "https://app.example.test" });
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

const clientFor = (token?: string, binary = false) =>
  createClient(
    ChatService,
    createConnectTransport({
      baseUrl: p.url,
      useBinaryFormat: binary,
      interceptors: token ? [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] : [],
    }),
  );

describe("connect ChatService", () => {
  test("connect: unary operations and a Subscribe stream that resumes, then receives live events", async () => {
    const ana = await newUser(p.url, "ana");
    const ben = await newUser(p.url, "ben");
    const anaRpc = clientFor(ana.token);
    const benRpc = clientFor(ben.token, true);
    const conv = await anaRpc.createConversation({ type: "private", members: [ben.id] });
    expect(conv.created).toBe(true);
    const first = crypto.randomUUID();
    const sent = await anaRpc.sendMessage({ idempotencyKey: first, conversationId: conv.conversationId, content: "one" });
    expect(sent.messageId).toBe(first);
    // Wait until it is stored, then subscribe from position 0: it must be replayed, then RESUMED, then live.
    for (let i = 0; i < 100 && (await benRpc.listMessages({ conversationId: conv.conversationId })).messages.length === 0; i++) await Bun.sleep(50);
    const abort = new AbortController();
    const events: any[] = [];
    const done = (async () => {
      try {
        for await (const ev of benRpc.subscribe({ positions: { [conv.conversationId]: 0n } }, { signal: abort.signal })) {
          events.push(ev.event);
          if (ev.event.case === "resumed") {
            await anaRpc.sendMessage({ idempotencyKey: crypto.randomUUID(), conversationId: conv.conversationId, content: "two" });
          }
          if (ev.event.case === "message" && ev.event.value.content === "two") break;
        }
      } catch (err) {
        if (!(err instanceof ConnectError && err.code === Code.Canceled)) throw err;
      }
    })();
    await Promise.race([done, Bun.sleep(10_000)]);
    abort.abort();
    expect(events.map((e) => e.case)).toEqual(["message", "resumed", "message"]);
    expect(events[0].value.content).toBe("one");
    expect(events[0].value.sequenceNumber).toBe(1n);
    expect(events[1].value).toMatchObject({ conversationId: conv.conversationId, fromSequence: 0n, toSequence: 1n });
    expect(events[2].value.sequenceNumber).toBe(2n);

    const list = await benRpc.listConversations({});
    expect(list.conversations.map((c) => c.conversationId)).toContain(conv.conversationId);
    const marked = await benRpc.markRead({ conversationId: conv.conversationId, sequenceNumber: 2n });
    expect(marked).toMatchObject({ status: "processing", updatedTo: "READ" });
    const got = await anaRpc.getConversation({ conversationId: conv.conversationId });
    expect(got.members.map((m) => m.userId).sort()).toEqual([ana.id, ben.id].sort());
  }, 30_000);

  test("connect: no token is Unauthenticated, a non-member is PermissionDenied, bad input is InvalidArgument", async () => {
    const a = await newUser(p.url, "a");
    const b = await newUser(p.url, "b");
    const eve = await newUser(p.url, "eve");
    const conv = await clientFor(a.token).createConversation({ type: "private", members: [b.id] });
    const err = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        return ConnectError.from(e);
      }
      throw new Error("expected an error");
    };
    expect((await err(() => clientFor().listConversations({}))).code).toBe(Code.Unauthenticated);
    expect((await err(() => clientFor(eve.token).listMessages({ conversationId: conv.conversationId }))).code).toBe(Code.PermissionDenied);
    expect((await err(() => clientFor(eve.token).sendMessage({ idempotencyKey: crypto.randomUUID(), conversationId: conv.conversationId, content: "x" }))).code).toBe(Code.PermissionDenied);
    expect((await err(() => clientFor(a.token).sendMessage({ idempotencyKey: "nope", conversationId: conv.conversationId, content: "x" }))).code).toBe(Code.InvalidArgument);
    const stream = clientFor(eve.token).subscribe({ positions: { [conv.conversationId]: 0n } });
    const first = await err(async () => {
      for await (const _ of stream) return;
    });
    expect(first.code).toBe(Code.PermissionDenied);
  });

  test("connect: CORS preflight is answered for configured origins only", async () => {
    const pre = (origin: string) =>
      fetch(`${p.url}/chat4all.v1.ChatService/SendMessage`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
      });
    const ok = await pre("https://app.example.test");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    const other = await pre("https://evil.example.test");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
