import { describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { DomainError, type ErrorKind, isDomainError } from "@chat4all/kernel";
import type { Conversation, FileRecord, MetadataStore, RefreshToken, User } from "@chat4all/metadata";
import { ExternalChannel, MetadataService, type Role } from "@chat4all/proto/chat4all/v1/metadata_pb";
import { createMetadataClient } from "./metadata-client.ts";
import { createMetadataService } from "./metadata-service.ts";

/** A store that records every call and answers (or throws) what the test configured. */
function recordingStore() {
  const calls: Array<[string, unknown[]]> = [];
  const answers = new Map<string, unknown>();
  const store = new Proxy({} as MetadataStore, {
    get: (_t, name) => async (...args: unknown[]) => {
      calls.push([String(name), args]);
      const a = answers.get(String(name));
      if (a instanceof Error) throw a;
      return a;
    },
  });
  const transport = createRouterTransport((router) => router.service(MetadataService, createMetadataService(store)));
  return { calls, answers, client: createMetadataClient(transport), raw: createClient(MetadataService, transport) };
}

const alice: User = {
  id: "u-1",
  username: "alice",
  email: "alice@example.com",
  name: "Alice",
  passwordHash: "$argon2id$v=19$x",
  avatarUrl: null,
  createdAt: 1_732_000_000_000,
};
const bob: User = { ...alice, id: "u-2", username: "bob", email: "b@example.com", avatarUrl: "https://cdn/b.png" };
const token: RefreshToken = { tokenHash: "h-1", userId: "u-1", familyId: "f-1", expiresAt: 1_800_000_000_000 };
const conv: Conversation = {
  id: "c-1",
  type: "group",
  metadata: { title: "team", tags: ["a", "b"], nested: { n: 1.5, ok: false, none: null } },
  createdBy: "u-1",
  createdAt: 1_732_000_000_500,
  lastSeq: 9_007_199_254_740_991,
};
const file: FileRecord = {
  key: "f/1.png",
  ownerId: "u-1",
  filename: "1.png",
  contentType: "image/png",
  size: 5_000_000_000,
  state: "uploading",
  uploadId: "up-1",
  createdAt: 1_732_000_001_000,
};

// [method, args, what the store answers]: the client must pass args through and return the answer unchanged.
const cases: Array<[keyof MetadataStore, unknown[], unknown]> = [
  ["createUser", [{ id: "u-1", username: "alice", email: "alice@example.com", name: "Alice", passwordHash: "x", avatarUrl: null }], alice],
  ["createUser", [{ id: "u-2", username: "bob", email: "b@example.com", name: "Bob", passwordHash: "y", avatarUrl: "https://cdn/b.png" }], bob],
  [
    "createUser",
    [{ id: "u-2", username: "bob", email: "b@example.com", name: "Bob", passwordHash: "y", avatarUrl: null, announce: [{ topic: "user.account.created.v1", key: "u-2", value: new Uint8Array([1, 0, 255]) }] }],
    bob,
  ],
  ["getUser", ["u-1"], alice],
  ["getUser", ["missing"], null],
  ["getUserByUsername", ["bob"], bob],
  ["getUserByUsername", ["nobody"], null],
  ["getUsers", [["u-1", "u-2"]], [alice, bob]],
  ["getUsers", [[]], []],
  ["searchUsers", [{ limit: 5 }], [alice]],
  ["searchUsers", [{ text: "al", limit: 20, afterUsername: "aaron" }], [alice, bob]],
  ["linkIdentity", ["u-1", "whatsapp", "+5511999990000"], undefined],
  ["listIdentities", ["u-1"], [{ userId: "u-1", channel: "instagram", externalId: "@alice" }]],
  ["identitiesOf", [["u-1", "u-2"]], [{ userId: "u-1", channel: "whatsapp", externalId: "+1" }, { userId: "u-2", channel: "instagram", externalId: "@b" }]],
  ["findUserByIdentity", ["instagram", "@alice"], "u-1"],
  ["findUserByIdentity", ["whatsapp", "+0"], null],
  ["putRefreshToken", [token], undefined],
  ["consumeRefreshToken", ["h-1", 1_732_000_000_000], { ...token, reused: false }],
  ["consumeRefreshToken", ["h-1", 1_732_000_000_001], { ...token, reused: true }],
  ["consumeRefreshToken", ["unknown", 1], null],
  ["revokeRefreshFamily", ["f-1"], undefined],
  ["createConversation", [{ id: "c-1", type: "group", createdBy: "u-1", members: ["u-2", "u-3"], metadata: conv.metadata }], { conversation: conv, created: true }],
  ["createConversation", [{ id: "c-2", type: "private", createdBy: "u-1", members: ["u-2"], metadata: null }], { conversation: { ...conv, type: "private", metadata: null, lastSeq: 0 }, created: false }],
  ["getConversation", ["c-1"], conv],
  ["getConversation", ["nope"], null],
  ["listConversations", ["u-1"], [conv, { ...conv, id: "c-0", metadata: null }]],
  ["listMembers", ["c-1"], [{ userId: "u-1", role: "owner", joinedAt: 1 }, { userId: "u-2", role: "admin", joinedAt: 2 }, { userId: "u-3", role: "member", joinedAt: 3 }]],
  ["memberRole", ["c-1", "u-2"], "admin"],
  ["memberRole", ["c-1", "stranger"], null],
  ["addMember", ["c-1", "u-4", "member"], true],
  ["addMember", ["c-1", "u-4", "admin"], false],
  ["removeMember", ["c-1", "u-4"], false],
  ["putFile", [file], undefined],
  ["getFile", ["f/1.png"], { ...file, state: "ready", uploadId: null }],
  ["getFile", ["nope"], null],
  ["updateFile", ["f/1.png", { state: "ready", size: 12, contentType: "image/jpeg" }], undefined],
  ["updateFile", ["f/1.png", { uploadId: null }], undefined],
  ["updateFile", ["f/1.png", { uploadId: "up-2", state: "rejected" }], undefined],
  ["updateFile", ["f/1.png", {}], undefined],
  ["attachFile", ["f/1.png", "c-1"], undefined],
  ["fileVisibleTo", ["f/1.png", "u-2"], true],
  ["staleUploads", [1_732_000_000_000, 50], [file]],
];

const kinds: ErrorKind[] = ["invalid", "unauthenticated", "forbidden", "not_found", "conflict", "too_large", "rate_limited", "unavailable"];

describe("metadata rpc", () => {
  test("metadata rpc: every port method passes its arguments and result through unchanged", async () => {
    const { calls, answers, client } = recordingStore();
    for (const [method, args, answer] of cases) {
      answers.set(method, answer);
      const got = await (client[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      expect({ method, got }).toEqual({ method, got: answer });
      expect(calls.at(-1)).toEqual([method, args]);
    }
    expect(calls.length).toBe(cases.length);
  });

  test("metadata rpc: a DomainError of the store reaches the client with the same kind, code and message", async () => {
    const { answers, client } = recordingStore();
    for (const kind of kinds) {
      answers.set("createUser", new DomainError(kind, `CODE_${kind.toUpperCase()}`, `it was ${kind}`, { retryAfterSec: kind === "rate_limited" ? 7 : undefined }));
      const err = await client.createUser({ id: "u", username: "u", email: "e", name: "n", passwordHash: "p" }).catch((e) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect({ kind: err.kind, code: err.code, message: err.message }).toEqual({ kind, code: `CODE_${kind.toUpperCase()}`, message: `it was ${kind}` });
      expect(err.retryAfterSec).toBe(kind === "rate_limited" ? 7 : undefined);
    }
  });

  test("metadata rpc: the DomainError crosses the wire as the matching Connect code", async () => {
    const { answers, raw } = recordingStore();
    const expected: Record<ErrorKind, Code> = {
      invalid: Code.InvalidArgument,
      unauthenticated: Code.Unauthenticated,
      forbidden: Code.PermissionDenied,
      not_found: Code.NotFound,
      conflict: Code.AlreadyExists,
      too_large: Code.ResourceExhausted,
      rate_limited: Code.ResourceExhausted,
      unavailable: Code.Unavailable,
    };
    for (const kind of kinds) {
      answers.set("getUser", new DomainError(kind, "X", "x"));
      const err = await raw.getUser({ id: "u" }).catch((e) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect(Code[(err as ConnectError).code]).toBe(Code[expected[kind]]);
    }
  });

  test("metadata rpc: an infrastructure error becomes a plain Error with context, not a DomainError", async () => {
    const { answers, client } = recordingStore();
    answers.set("getUser", new Error("pg: select users", { cause: new Error("connection reset") }));
    const err = await client.getUser("u-1").catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isDomainError(err)).toBe(false);
    expect(err.message).toContain("metadata rpc GetUser");
    expect(err.message).toContain("internal");
    expect(err.message).toContain("connection reset");
  });

  test("metadata rpc: healthy asks the store, and is false when the store fails", async () => {
    const { answers, client, calls } = recordingStore();
    answers.set("healthy", true);
    expect(await client.healthy()).toBe(true);
    answers.set("healthy", false);
    expect(await client.healthy()).toBe(false);
    answers.set("healthy", new Error("down"));
    expect(await client.healthy()).toBe(false);
    expect(calls.filter(([m]) => m === "healthy").length).toBe(3);
    await client.init();
    await client.close();
    expect(calls.length).toBe(3);
  });

  test("metadata rpc: unspecified enums are rejected as InvalidArgument without reaching the store", async () => {
    const { calls, raw } = recordingStore();
    const err = await raw.linkIdentity({ userId: "u", channel: ExternalChannel.UNSPECIFIED, externalId: "x" }).catch((e) => e);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    const err2 = await raw.addMember({ conversationId: "c", userId: "u", role: 42 as Role }).catch((e) => e);
    expect((err2 as ConnectError).code).toBe(Code.InvalidArgument);
    expect(calls).toEqual([]);
  });
});
