import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeMessageStoreContract } from "./contract.ts";
import { createMessageStore } from "./create.ts";
import { createSqliteMessageStore } from "./message-store-sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "c4a-msgstore-"));
const path = join(dir, "messages.db");

describeMessageStoreContract("sqlite", async () => createSqliteMessageStore({ path }), {
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  pageMs: 50,
});

describe("sqlite message store", () => {
  test("sqlite message store: works in memory and refuses use before init", async () => {
    const store = createSqliteMessageStore({ path: ":memory:" });
    await expect(store.listMessages("c", { limit: 1 })).rejects.toThrow(/init/);
    await store.init();
    await store.putMessages([{ messageId: "m", conversationId: "c", senderId: "s", type: "text", content: "x", attachments: null, metadata: null, targetChannels: ["all"], createdAt: 1, origin: "delivery", seq: 1 }]);
    expect((await store.listMessages("c", { limit: 5 })).map((m) => m.seq)).toEqual([1]);
    expect(await store.healthy()).toBe(true);
    await store.close();
    expect(await store.healthy()).toBe(false);
  });

  test("sqlite message store: the factory builds it and names an unknown backend", () => {
    expect(typeof createMessageStore({ backend: "sqlite", path: ":memory:" }).init).toBe("function");
    expect(() => createMessageStore({ backend: "mongo" } as never)).toThrow('unknown message store backend: "mongo"');
  });
});
