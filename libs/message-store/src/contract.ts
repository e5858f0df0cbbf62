import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { StoredMessage } from "@chat4all/kernel";
import type { MessageStore } from "./message-store.ts";

/** Options of the MessageStore contract suite. */
export interface MessageStoreContractOptions {
  /** Called once after every store made by the suite was closed (drop keyspace, delete files). */
  cleanup?: () => Promise<void>;
  /** Upper bound in ms for one page read (the O(limit) checks); default 1000. */
  pageMs?: number;
}

const DAY = 86_400_000;
let counter = 0;
/** A unique id so suites sharing a server never see each other's rows. */
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

function msg(conversationId: string, seq: number, over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    messageId: `${conversationId}-m${seq}`,
    conversationId,
    senderId: "alice",
    type: "text",
    content: `hello ${seq}`,
    attachments: null,
    metadata: null,
    targetChannels: ["delivery"],
    createdAt: 1_700_000_000_000 + seq,
    origin: "delivery",
    seq,
    ...over,
  };
}

const seqs = (ms: StoredMessage[]) => ms.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Runs the MessageStore contract against an adapter. Every call of `make` must return a new,
 * uninitialised store over the SAME storage (so two of them behave like two processes).
 */
export function describeMessageStoreContract(label: string, make: () => Promise<MessageStore>, opts: MessageStoreContractOptions = {}): void {
  const pageMs = opts.pageMs ?? 1000;
  describe(`message store contract (${label})`, () => {
    let store: MessageStore;
    let other: MessageStore;
    const bigConv = uid("big");
    const BIG = 137;

    beforeAll(async () => {
      store = await make();
      await store.init();
      other = await make();
      await other.init();
      const all = range(1, BIG).map((s) => msg(bigConv, s));
      await store.putMessages(all.slice(0, 60));
      await store.putMessages(all.slice(60));
    });
    afterAll(async () => {
      await store?.close();
      await other?.close();
      await opts.cleanup?.();
    });

    test("message store: init is idempotent and the store reports healthy", async () => {
      await store.init();
      await other.init();
      expect(await store.healthy()).toBe(true);
    });

    test("message store: a stored message round-trips every field", async () => {
      const conv = uid("rt");
      const m = msg(conv, 1, {
        type: "file",
        content: "see attached ✓ ünïcödé",
        attachments: { file_key: "k/1.png", size: 12, nested: { a: [1, 2] } },
        metadata: { client: "web", n: 3 },
        targetChannels: ["whatsapp", "instagram"],
        createdAt: 1_712_345_678_901,
        origin: "whatsapp",
      });
      await store.putMessages([m]);
      expect(await store.getMessage(conv, 1)).toEqual(m);
      expect(await store.listMessages(conv, { limit: 10 })).toEqual([m]);
    });

    test("message store: getMessage answers null for an unknown seq or conversation", async () => {
      expect(await store.getMessage(bigConv, BIG + 1)).toBeNull();
      expect(await store.getMessage(uid("none"), 1)).toBeNull();
    });

    test("message store: writing the same (conversation, seq) twice leaves one row, the last one", async () => {
      const conv = uid("idem");
      await store.putMessages([msg(conv, 1), msg(conv, 2)]);
      await store.putMessages([msg(conv, 1), msg(conv, 2)]);
      await other.putMessages([msg(conv, 2, { content: "edited" })]);
      const got = await store.listMessages(conv, { limit: 10, order: "asc" });
      expect(seqs(got)).toEqual([1, 2]);
      expect(got[1]?.content).toBe("edited");
    });

    test("message store: putMessages of an empty batch is a no-op", async () => {
      await store.putMessages([]);
    });

    test("message store: putMessages writes many conversations in one call", async () => {
      const convs = [uid("multi"), uid("multi"), uid("multi")];
      await store.putMessages(convs.flatMap((c) => range(1, 25).map((s) => msg(c, s))));
      for (const c of convs) expect(seqs(await other.listMessages(c, { limit: 100, order: "asc" }))).toEqual(range(1, 25));
    });

    test("message store: listMessages is newest first by default and at most limit", async () => {
      expect(seqs(await store.listMessages(bigConv, { limit: 5 }))).toEqual([137, 136, 135, 134, 133]);
      expect(seqs(await store.listMessages(bigConv, { limit: 1000 }))).toEqual(range(1, BIG).reverse());
      expect(await store.listMessages(bigConv, { limit: 0 })).toEqual([]);
      expect(await store.listMessages(uid("empty"), { limit: 10 })).toEqual([]);
    });

    test("message store: listMessages asc is oldest first", async () => {
      expect(seqs(await store.listMessages(bigConv, { limit: 4, order: "asc" }))).toEqual([1, 2, 3, 4]);
    });

    test("message store: beforeSeq and afterSeq are strict bounds, alone and together", async () => {
      expect(seqs(await store.listMessages(bigConv, { limit: 3, beforeSeq: 50 }))).toEqual([49, 48, 47]);
      expect(seqs(await store.listMessages(bigConv, { limit: 3, afterSeq: 50 }))).toEqual([137, 136, 135]);
      expect(seqs(await store.listMessages(bigConv, { limit: 3, afterSeq: 50, order: "asc" }))).toEqual([51, 52, 53]);
      expect(seqs(await store.listMessages(bigConv, { limit: 3, beforeSeq: 50, order: "asc" }))).toEqual([1, 2, 3]);
      expect(seqs(await store.listMessages(bigConv, { limit: 100, afterSeq: 8, beforeSeq: 12 }))).toEqual([11, 10, 9]);
      expect(seqs(await store.listMessages(bigConv, { limit: 100, afterSeq: 8, beforeSeq: 12, order: "asc" }))).toEqual([9, 10, 11]);
      expect(await store.listMessages(bigConv, { limit: 10, afterSeq: 10, beforeSeq: 11 })).toEqual([]);
      expect(await store.listMessages(bigConv, { limit: 10, beforeSeq: 1 })).toEqual([]);
      expect(await store.listMessages(bigConv, { limit: 10, afterSeq: BIG })).toEqual([]);
    });

    test("message store: paging backwards with beforeSeq visits every message exactly once", async () => {
      const seen: number[] = [];
      let before: number | undefined;
      for (let i = 0; i < 100; i++) {
        const page = await store.listMessages(bigConv, { limit: 7, beforeSeq: before });
        if (page.length === 0) break;
        seen.push(...seqs(page));
        before = page[page.length - 1]!.seq;
      }
      expect(seen).toEqual(range(1, BIG).reverse());
    });

    test("message store: paging forwards with afterSeq (a resume) visits every message exactly once", async () => {
      const seen: number[] = [];
      let after = 0;
      for (let i = 0; i < 100; i++) {
        const page = await store.listMessages(bigConv, { limit: 9, afterSeq: after, order: "asc" });
        if (page.length === 0) break;
        seen.push(...seqs(page));
        after = page[page.length - 1]!.seq;
      }
      expect(seen).toEqual(range(1, BIG));
    });

    test("message store: bounds far beyond the stored seqs cost one page, not a walk", async () => {
      const t0 = performance.now();
      expect(seqs(await store.listMessages(bigConv, { limit: 3, beforeSeq: 1_000_000_000 }))).toEqual([137, 136, 135]);
      expect(await store.listMessages(bigConv, { limit: 3, afterSeq: 1_000_000_000, order: "asc" })).toEqual([]);
      expect(await store.listMessages(bigConv, { limit: 3, afterSeq: 1_000_000_000 })).toEqual([]);
      expect(seqs(await store.listMessages(bigConv, { limit: 2, afterSeq: 0, beforeSeq: 2_000_000_000, order: "asc" }))).toEqual([1, 2]);
      expect(performance.now() - t0).toBeLessThan(4 * pageMs);
    });

    test("message store: a page read costs the same in a long conversation as in a short one", async () => {
      const long = uid("long");
      const N = 3000;
      for (let s = 1; s <= N; s += 1000) await store.putMessages(range(s, Math.min(N, s + 999)).map((q) => msg(long, q)));
      const time = async (conv: string, before: number) => {
        const t0 = performance.now();
        for (let i = 0; i < 5; i++) expect((await store.listMessages(conv, { limit: 20, beforeSeq: before })).length).toBe(20);
        return (performance.now() - t0) / 5;
      };
      await time(long, 1500); // warm-up
      const middle = await time(long, 1500);
      const short = await time(bigConv, 100);
      expect(middle).toBeLessThan(pageMs);
      expect(middle).toBeLessThan(short * 5 + 50);
      // Long pages cross many seq ranges (partitions in the cluster) in both directions.
      expect(seqs(await store.listMessages(long, { limit: 500, beforeSeq: 2001 }))).toEqual(range(1501, 2000).reverse());
      expect(seqs(await store.listMessages(long, { limit: 500, afterSeq: 1000, order: "asc" }))).toEqual(range(1001, 1500));
    });

    test("message store: a first receipt starts from zero and READ up to n implies DELIVERED up to n", async () => {
      const conv = uid("rcpt");
      const r1 = await store.advanceReceipt(conv, "bob", "delivered", 3);
      expect(r1).toEqual({ receipt: { conversationId: conv, userId: "bob", deliveredUpTo: 3, readUpTo: 0 }, advanced: true });
      const r2 = await store.advanceReceipt(conv, "carol", "read", 5);
      expect(r2).toEqual({ receipt: { conversationId: conv, userId: "carol", deliveredUpTo: 5, readUpTo: 5 }, advanced: true });
      const r3 = await store.advanceReceipt(conv, "bob", "read", 2);
      expect(r3).toEqual({ receipt: { conversationId: conv, userId: "bob", deliveredUpTo: 3, readUpTo: 2 }, advanced: true });
    });

    test("message store: receipts never move back and report when nothing moved", async () => {
      const conv = uid("mono");
      await store.advanceReceipt(conv, "bob", "read", 10);
      const back = await store.advanceReceipt(conv, "bob", "delivered", 4);
      expect(back).toEqual({ receipt: { conversationId: conv, userId: "bob", deliveredUpTo: 10, readUpTo: 10 }, advanced: false });
      expect((await store.advanceReceipt(conv, "bob", "read", 10)).advanced).toBe(false);
      expect((await store.advanceReceipt(conv, "bob", "read", 9)).receipt.readUpTo).toBe(10);
      const fwd = await store.advanceReceipt(conv, "bob", "delivered", 12);
      expect(fwd).toEqual({ receipt: { conversationId: conv, userId: "bob", deliveredUpTo: 12, readUpTo: 10 }, advanced: true });
      expect(await other.getReceipts(conv)).toEqual([{ conversationId: conv, userId: "bob", deliveredUpTo: 12, readUpTo: 10 }]);
    });

    test("message store: concurrent advances from two processes end at the maximum", async () => {
      const conv = uid("race");
      const values = range(1, 60).sort(() => Math.random() - 0.5);
      const results = await Promise.all(
        values.map((v, i) => (i % 2 ? store : other).advanceReceipt(conv, "dave", v % 3 === 0 ? "read" : "delivered", v)),
      );
      for (const [i, r] of results.entries()) {
        const v = values[i]!;
        expect(r.receipt.deliveredUpTo).toBeGreaterThanOrEqual(v);
        expect(r.receipt.readUpTo).toBeLessThanOrEqual(r.receipt.deliveredUpTo);
      }
      expect(results.some((r) => r.advanced)).toBe(true);
      expect(await store.getReceipts(conv)).toEqual([{ conversationId: conv, userId: "dave", deliveredUpTo: 60, readUpTo: 60 }]);
    });

    test("message store: getReceipts lists every member with a receipt and nobody else", async () => {
      const conv = uid("list");
      await store.advanceReceipt(conv, "u1", "delivered", 7);
      await store.advanceReceipt(conv, "u2", "read", 4);
      await store.advanceReceipt(uid("elsewhere"), "u3", "read", 4);
      const got = (await store.getReceipts(conv)).sort((a, b) => a.userId.localeCompare(b.userId));
      expect(got).toEqual([
        { conversationId: conv, userId: "u1", deliveredUpTo: 7, readUpTo: 0 },
        { conversationId: conv, userId: "u2", deliveredUpTo: 4, readUpTo: 4 },
      ]);
      expect(await store.getReceipts(uid("nobody"))).toEqual([]);
    });

    test("message store: the inbox lists a user's messages since a time, oldest first, at most limit", async () => {
      const user = uid("user");
      const now = Date.now();
      const conv = uid("ibx");
      const times = [now - 3 * DAY, now - 2 * DAY - 5, now - DAY, now - 1000, now - 1000, now];
      const ms = times.map((t, i) => msg(conv, i + 1, { createdAt: t }));
      await store.appendInbox([...ms].reverse().map((message) => ({ userId: user, message })));
      await store.appendInbox([{ userId: uid("someone"), message: msg(conv, 99, { createdAt: now }) }]);
      expect(seqs(await store.listInbox(user, 0, 100))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seqs(await other.listInbox(user, now - 2 * DAY, 100))).toEqual([3, 4, 5, 6]);
      expect(seqs(await store.listInbox(user, now - 1000, 100))).toEqual([4, 5, 6]);
      expect(seqs(await store.listInbox(user, now - 3 * DAY, 2))).toEqual([1, 2]);
      expect(await store.listInbox(user, now + 1, 100)).toEqual([]);
      expect((await store.listInbox(user, now, 10))[0]).toEqual(ms[5]!);
    });

    test("message store: the inbox reads across many days in order", async () => {
      const user = uid("user");
      const conv = uid("days");
      const start = Date.now() - 40 * DAY;
      const ms = range(1, 40).map((i) => msg(conv, i, { createdAt: start + i * DAY - (i % 3) * 1000 }));
      await store.appendInbox(ms.map((message) => ({ userId: user, message })));
      expect(seqs(await store.listInbox(user, 0, 100))).toEqual(range(1, 40));
      expect(seqs(await store.listInbox(user, start + 10 * DAY, 25))).toEqual(range(11, 35));
    });

    test("message store: inbox appends are idempotent per (user, conversation, seq)", async () => {
      const user = uid("user");
      const now = Date.now();
      const [c1, c2] = [uid("a"), uid("b")];
      const entries = [msg(c1, 1, { createdAt: now }), msg(c2, 1, { createdAt: now }), msg(c1, 2, { createdAt: now + 1 })].map((message) => ({ userId: user, message }));
      await store.appendInbox(entries);
      await other.appendInbox(entries);
      await store.appendInbox([]);
      const got = await store.listInbox(user, now - DAY, 100);
      expect(got.map((m) => `${m.conversationId}:${m.seq}`).sort()).toEqual([`${c1}:1`, `${c1}:2`, `${c2}:1`].sort());
      expect(got[2]).toEqual(entries[2]!.message);
    });

    test("message store: an inbox since long ago answers in one page's time", async () => {
      const user = uid("user");
      await store.appendInbox([{ userId: user, message: msg(uid("old"), 1, { createdAt: Date.now() }) }]);
      const t0 = performance.now();
      expect((await store.listInbox(user, 0, 10)).length).toBe(1);
      expect(await store.listInbox(user, Date.now() + DAY, 10)).toEqual([]);
      expect(await store.listInbox(uid("nobody"), 0, 10)).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(2 * pageMs);
    });
  });
}
