import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { conflict, DomainError, forbidden } from "@chat4all/kernel";
import type { MetadataStore, Sequencer } from "@chat4all/metadata";
import { ChatService, type SubscribeResponse } from "@chat4all/proto/chat4all/v1/chat_pb";
import { MetadataService } from "@chat4all/proto/chat4all/v1/metadata_pb";
import { SequencerService } from "@chat4all/proto/chat4all/v1/sequencer_pb";
import { fromConnectError } from "./errors.ts";
import { createConnectHandler } from "./handler.ts";
import { createMetadataClient } from "./metadata-client.ts";
import { createMetadataService } from "./metadata-service.ts";
import { createSequencerClient, createSequencerService } from "./sequencer.ts";
import { createHttpTransport } from "./transport.ts";

for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const sequencer: Sequencer = {
  allocate: async (_c, ids) => ids.map((_, i) => i + 1),
  allocateMany: async (reqs) => reqs.map((r) => ({ seqs: r.messageIds.map((_, i) => i + 1) })),
  lastSeq: async (c) => (c === "c-1" ? 7 : 0),
};
const store = {
  getUser: async (id: string) =>
    id === "u-1" ? { id, username: "alice", email: "a@x", name: "A", passwordHash: "h", avatarUrl: null, createdAt: 5 } : null,
  createUser: async () => {
    throw conflict("USERNAME_TAKEN", "username already taken");
  },
  healthy: async () => true,
} as unknown as MetadataStore;

const internalErrors: string[] = [];
function register(router: ConnectRouter) {
  router.service(SequencerService, createSequencerService(sequencer));
  router.service(MetadataService, createMetadataService(store));
  router.service(ChatService, {
    async *subscribe(req) {
      for (const [conversationId, last] of Object.entries(req.positions)) {
        yield { event: { case: "message", value: { conversationId, sequenceNumber: last + 1n, content: "missed" } } };
        yield { event: { case: "resumed", value: { conversationId, fromSequence: last + 1n, toSequence: last + 1n } } };
      }
      yield { event: { case: "typing", value: { conversationId: "c-1", userId: "u-2" } } };
      if (req.positions["kick"] !== undefined) throw forbidden("NOT_A_MEMBER", "not a member of kick");
    },
    async listConversations() {
      throw new Error("cassandra: secret host 10.0.0.7 unreachable");
    },
  });
}

let server: ReturnType<typeof Bun.serve>;
let base = "";

beforeAll(() => {
  const handle = createConnectHandler(register, {
    cors: { origins: ["https://app.example"] },
    readMaxBytes: 64 * 1024,
    onError: (_err, procedure) => internalErrors.push(procedure),
  });
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (req) => (await handle(req)) ?? new Response("not found", { status: 404 }),
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

async function collect(it: AsyncIterable<SubscribeResponse>): Promise<Array<[string | undefined, unknown]>> {
  const out: Array<[string | undefined, unknown]> = [];
  for await (const ev of it) {
    const v = ev.event.value;
    out.push([ev.event.case, v && "conversationId" in v ? v.conversationId : v]);
  }
  return out;
}

describe("rpc over HTTP", () => {
  test("rpc http: sequencer and metadata clients work through a real Bun server", async () => {
    const transport = createHttpTransport(`${base}/`);
    const seq = createSequencerClient(transport);
    expect(await seq.allocate("c-1", ["a", "b"])).toEqual([1, 2]);
    expect(await seq.lastSeq("c-1")).toBe(7);
    const meta = createMetadataClient(transport);
    expect((await meta.getUser("u-1"))?.username).toBe("alice");
    expect(await meta.getUser("nope")).toBeNull();
    expect(await meta.healthy()).toBe(true);
    const err = await meta.createUser({ id: "u", username: "alice", email: "e", name: "n", passwordHash: "p" }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect([err.kind, err.code, err.message]).toEqual(["conflict", "USERNAME_TAKEN", "username already taken"]);
  });

  test("rpc http: a server-streaming call delivers every event in order, over Connect and gRPC-web", async () => {
    const expected: Array<[string, string]> = [["message", "c-9"], ["resumed", "c-9"], ["typing", "c-1"]];
    for (const transport of [createHttpTransport(base), createGrpcWebTransport({ baseUrl: base, useBinaryFormat: true })]) {
      const chat = createClient(ChatService, transport);
      expect(await collect(chat.subscribe({ positions: { "c-9": 41n } }))).toEqual(expected);
    }
  });

  test("rpc http: DomainErrors keep kind and code over gRPC-web, unary and mid-stream", async () => {
    for (const transport of [createHttpTransport(base), createGrpcWebTransport({ baseUrl: base, useBinaryFormat: true })]) {
      const chat = createClient(ChatService, transport);
      const seen: string[] = [];
      let caught: unknown;
      try {
        for await (const ev of chat.subscribe({ positions: { kick: 0n } })) seen.push(String(ev.event.case));
      } catch (err) {
        caught = err;
      }
      expect(seen).toEqual(["message", "resumed", "typing"]);
      expect((caught as ConnectError).code).toBe(Code.PermissionDenied);
      const d = fromConnectError(caught, "chat rpc Subscribe") as DomainError;
      expect([d.kind, d.code, d.message]).toEqual(["forbidden", "NOT_A_MEMBER", "not a member of kick"]);

      const meta = createClient(MetadataService, transport);
      const raw = await meta.createUser({ id: "u", username: "alice", email: "e", name: "n", passwordHash: "p" }).catch((e) => e);
      const u = fromConnectError(raw, "metadata rpc CreateUser") as DomainError;
      expect([u.kind, u.code]).toEqual(["conflict", "USERNAME_TAKEN"]);
    }
  });

  test("rpc http: internal errors reach clients as Internal without their message, and are reported", async () => {
    const chat = createClient(ChatService, createHttpTransport(base));
    const err = (await chat.listConversations({}).catch((e) => e)) as ConnectError;
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(internalErrors).toContain("chat4all.v1.ChatService/ListConversations");
    const unimplemented = (await chat.markRead({ conversationId: "c", sequenceNumber: 1n }).catch((e) => e)) as ConnectError;
    expect(unimplemented.code).toBe(Code.Unimplemented);
  });

  test("rpc http: requests above the size bound are refused with ResourceExhausted", async () => {
    const seq = createClient(SequencerService, createHttpTransport(base));
    const ids = Array.from({ length: 2000 }, (_, i) => `message-${i}-${"x".repeat(40)}`);
    const err = (await seq.allocate({ conversationId: "c", messageIds: ids }).catch((e) => e)) as ConnectError;
    expect(err.code).toBe(Code.ResourceExhausted);
  });

  test("rpc http: paths that are not procedures fall through to the caller", async () => {
    const res = await fetch(`${base}/chat4all.v1.ChatService/NoSuchMethod`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("not found");
    expect((await fetch(`${base}/health`)).status).toBe(404);
  });

  test("rpc http: CORS preflights and responses allow only configured origins", async () => {
    const url = `${base}/chat4all.v1.SequencerService/LastSeq`;
    const preflight = (origin: string) =>
      fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
      });
    const ok = await preflight("https://app.example");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");
    const evil = await preflight("https://evil.example");
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();

    const res = await fetch(url, {
      method: "POST",
      headers: { origin: "https://app.example", "content-type": "application/json", "connect-protocol-version": "1" },
      body: JSON.stringify({ conversationId: "c-1" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ lastSeq: "7" });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("chat4all-error-code");
  });

  test("rpc http: an unreachable server makes clients report unavailable", async () => {
    const dead = createHttpTransport("http://127.0.0.1:1");
    const err = await createSequencerClient(dead).lastSeq("c").catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect([err.kind, err.code]).toEqual(["unavailable", "SEQUENCER_UNAVAILABLE"]);
    expect(await createMetadataClient(dead).healthy()).toBe(false);
  });
});
