import { afterAll, describe, expect, test } from "bun:test";
import type { Ephemeral } from "./ephemeral.ts";

/** Options of the Ephemeral contract suite. */
export interface EphemeralContractOptions {
  /** Per-test timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** Instances from `make` share one store (a server): atomicity is then also checked across instances. */
  shared?: boolean;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the Ephemeral contract against an adapter. `make` returns a new instance each call (for a
 * server: isolated by a key prefix of its own choosing); the suite closes them.
 */
export function describeEphemeralContract(label: string, make: () => Promise<Ephemeral>, opts: EphemeralContractOptions = {}): void {
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const key = (what: string) => `contract:${run}:${what}:${++n}`;
  const timeout = opts.timeoutMs ?? 10_000;
  const open: Ephemeral[] = [];
  const fresh = async () => {
    const e = await make();
    open.push(e);
    return e;
  };
  afterAll(async () => {
    await Promise.allSettled(open.map((e) => e.close()));
  });

  describe(`${label}: Ephemeral contract`, () => {
    test("ephemeral: get returns what set stored, del removes it, an absent key reads as null", async () => {
      const e = await fresh();
      const k = key("kv");
      expect(await e.get(k)).toBeNull();
      await e.set(k, "v1");
      expect(await e.get(k)).toBe("v1");
      await e.set(k, "v2 ünïcode");
      expect(await e.get(k)).toBe("v2 ünïcode");
      await e.del(k);
      expect(await e.get(k)).toBeNull();
      await e.del(k);
    }, timeout);

    test("ephemeral: a key with a TTL disappears once it expires; ttl reports -1 without expiry and -2 when absent", async () => {
      const e = await fresh();
      const [k, forever] = [key("ttl"), key("forever")];
      await e.set(k, "soon gone", 120);
      await e.set(forever, "stays");
      expect(await e.get(k)).toBe("soon gone");
      const left = await e.ttl(k);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(120);
      expect(await e.ttl(forever)).toBe(-1);
      expect(await e.ttl(key("absent"))).toBe(-2);
      await wait(200);
      expect(await e.get(k)).toBeNull();
      expect(await e.ttl(k)).toBe(-2);
      expect(await e.get(forever)).toBe("stays");
      // set without a TTL replaces the expiry too
      await e.set(k, "again", 100);
      await e.set(k, "kept");
      expect(await e.ttl(k)).toBe(-1);
    }, timeout);

    test("ephemeral: incr is atomic under concurrent callers", async () => {
      const a = await fresh();
      const b = opts.shared ? await fresh() : a;
      const k = key("incr");
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).incr(k, 10_000)));
      expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await a.get(k)).toBe("200");
    }, timeout);

    test("ephemeral: incr sets the TTL when the counter is created and later increments do not extend it", async () => {
      const e = await fresh();
      const k = key("window");
      expect(await e.incr(k, 300)).toBe(1);
      await wait(150);
      expect(await e.incr(k, 300)).toBe(2);
      const left = await e.ttl(k);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(160);
      await wait(250);
      expect(await e.get(k)).toBeNull();
      expect(await e.incr(k, 300)).toBe(1); // a new window
    }, timeout);

    test("ephemeral: members have their own expiry; members() returns only unexpired ones; adding refreshes", async () => {
      const e = await fresh();
      const k = key("set");
      await e.memberAdd(k, "short", 100);
      await e.memberAdd(k, "long", 5_000);
      await e.memberAdd(k, "refreshed", 100);
      expect((await e.members(k)).sort()).toEqual(["long", "refreshed", "short"]);
      await e.memberAdd(k, "refreshed", 5_000);
      await wait(180);
      expect((await e.members(k)).sort()).toEqual(["long", "refreshed"]);
      await e.memberRemove(k, "long");
      await e.memberRemove(k, "never-added");
      expect(await e.members(k)).toEqual(["refreshed"]);
    }, timeout);

    test("ephemeral: a set whose members have all expired reads as empty (and the key is gone)", async () => {
      const e = await fresh();
      const k = key("dead-set");
      await e.memberAdd(k, "a", 80);
      await e.memberAdd(k, "b", 120);
      expect(await e.ttl(k)).toBeGreaterThan(0);
      await wait(200);
      expect(await e.members(k)).toEqual([]);
      expect(await e.ttl(k)).toBe(-2);
      expect(await e.members(key("never"))).toEqual([]);
    }, timeout);

    test("ephemeral: setIfAbsent is atomic: of concurrent callers exactly one wins, and it frees up on expiry", async () => {
      const a = await fresh();
      const b = opts.shared ? await fresh() : a;
      const k = key("lock");
      const wins = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).setIfAbsent(k, `owner-${i}`, 150)));
      expect(wins.filter(Boolean).length).toBe(1);
      expect(await a.get(k)).toBe(`owner-${wins.indexOf(true)}`);
      expect(await b.setIfAbsent(k, "late", 150)).toBe(false);
      const left = await a.ttl(k);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(150);
      await wait(220);
      expect(await b.setIfAbsent(k, "next", 150)).toBe(true);
      expect(await a.get(k)).toBe("next");
    }, timeout);

    test("ephemeral: healthy is true while open and false after close", async () => {
      const e = await fresh();
      expect(await e.healthy()).toBe(true);
      await e.close();
      expect(await e.healthy()).toBe(false);
    }, timeout);
  });
}
