import { afterAll, describe, expect, test } from "bun:test";
import type { EventBatch, EventLog, EventRecord } from "./event-log.ts";

/** Options of the EventLog contract suite. */
export interface EventLogContractOptions {
  /** Prefix of every topic the suite creates (default "contract"); cluster runs make it unique per run. */
  topicPrefix?: string;
  /** Per-test timeout in ms (default 20 000). */
  timeoutMs?: number;
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = <T>(u: Uint8Array) => JSON.parse(new TextDecoder().decode(u)) as T;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string | (() => string), cond: () => boolean, timeoutMs = 15_000, onTick?: () => Promise<void>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await onTick?.();
    await wait(20);
  }
}

interface Running {
  batches: EventBatch[];
  records(): EventRecord[];
  stop(): Promise<void>;
  done: Promise<void>;
}

function start(
  log: EventLog,
  o: { group: string; topics: string[]; maxBatch?: number; fromBeginning?: boolean; handle?: (b: EventBatch) => Promise<void> },
): Running {
  const ac = new AbortController();
  const batches: EventBatch[] = [];
  const done = log.consume({
    group: o.group,
    topics: o.topics,
    signal: ac.signal,
    maxBatch: o.maxBatch,
    fromBeginning: o.fromBeginning,
    handle: async (b) => {
      await o.handle?.(b);
      batches.push(b);
    },
  });
  done.catch(() => {});
  return {
    batches,
    records: () => batches.flatMap((b) => b.records),
    stop: async () => {
      ac.abort();
      await done;
    },
    done,
  };
}

/**
 * Runs the EventLog contract against an adapter. `make` returns a new instance over the SAME
 * backing store each call (a file, a cluster), so restarts can be tested; the suite closes them.
 */
export function describeEventLogContract(label: string, make: () => Promise<EventLog>, opts: EventLogContractOptions = {}): void {
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const name = (what: string) => `${opts.topicPrefix ?? "contract"}-${what}-${run}-${++n}`;
  const timeout = opts.timeoutMs ?? 20_000;
  const open: EventLog[] = [];
  const fresh = async () => {
    const log = await make();
    open.push(log);
    return log;
  };
  afterAll(async () => {
    await Promise.allSettled(open.map((l) => l.close()));
  });

  describe(`${label}: EventLog contract`, () => {
    test("event log: appending to a topic that was not ensured fails", async () => {
      const log = await fresh();
      await expect(log.append(name("missing"), [{ key: "k", value: enc(1) }])).rejects.toThrow();
    }, timeout);

    test("event log: ensureTopics is idempotent, keeps the partition count fixed and creates the .dlq twin", async () => {
      const log = await fresh();
      const t = name("ensure");
      await log.ensureTopics([{ name: t, partitions: 2 }]);
      await log.ensureTopics([{ name: t, partitions: 2 }]);
      await expect(log.ensureTopics([{ name: t, partitions: 5 }])).rejects.toThrow();
      await log.append(`${t}.dlq`, [{ key: "k", value: enc("twin") }]);
      await log.append(t, [{ key: "k", value: enc("main") }]);
    }, timeout);

    test("event log: same key lands in one partition, in append order, across concurrent appends", async () => {
      const log = await fresh();
      const t = name("order");
      await log.ensureTopics([{ name: t, partitions: 3 }]);
      const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
      const seq = new Map<string, number>();
      const calls = [];
      for (let round = 0; round < 5; round++) {
        for (const k of keys) {
          const i = seq.get(k) ?? 0;
          seq.set(k, i + 1);
          calls.push(log.append(t, [{ key: k, value: enc({ k, i }), headers: { "x-k": k } }]));
        }
      }
      await Promise.all(calls);
      const c = start(log, { group: name("g"), topics: [t] });
      await until("all records", () => c.records().length >= 300);
      await c.stop();
      const byKey = new Map<string, EventRecord[]>();
      for (const r of c.records()) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
      expect(new Set(c.records().map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
      for (const [k, rs] of byKey) {
        expect(new Set(rs.map((r) => r.partition)).size).toBe(1);
        expect(rs.map((r) => dec<{ i: number }>(r.value).i)).toEqual([0, 1, 2, 3, 4]);
        expect(rs.every((r) => r.headers["x-k"] === k && r.topic === t && r.timestamp > Date.now() - 60_000)).toBe(true);
      }
    }, timeout);

    test("event log: a batch is one topic-partition in offset order with at most maxBatch records", async () => {
      const log = await fresh();
      const [a, b] = [name("batch-a"), name("batch-b")];
      await log.ensureTopics([{ name: a, partitions: 2 }, { name: b, partitions: 2 }]);
      const rec = (i: number) => ({ key: `k${i % 9}`, value: enc(i) });
      await Promise.all([log.append(a, Array.from({ length: 40 }, (_, i) => rec(i))), log.append(b, Array.from({ length: 40 }, (_, i) => rec(i)))]);
      const c = start(log, { group: name("g"), topics: [a, b], maxBatch: 7 });
      await until("80 records", () => c.records().length >= 80);
      await c.stop();
      const last = new Map<string, bigint>();
      for (const batch of c.batches) {
        expect(batch.records.length).toBeGreaterThan(0);
        expect(batch.records.length).toBeLessThanOrEqual(7);
        for (const r of batch.records) {
          expect([r.topic, r.partition]).toEqual([batch.topic, batch.partition]);
          const k = `${r.topic}/${r.partition}`;
          expect(BigInt(r.offset)).toBeGreaterThan(last.get(k) ?? -1n);
          last.set(k, BigInt(r.offset));
        }
      }
    }, timeout);

    test("event log: a resolved append is durable: another instance reads it", async () => {
      const writer = await fresh();
      const t = name("durable");
      await writer.ensureTopics([{ name: t, partitions: 1 }]);
      await writer.append(t, [{ key: "a", value: enc("x") }, { key: "b", value: enc("y") }]);
      const reader = await fresh();
      const c = start(reader, { group: name("g"), topics: [t] });
      await until("2 records", () => c.records().length >= 2);
      await c.stop();
      expect(c.records().map((r) => dec<string>(r.value))).toEqual(["x", "y"]);
      expect(c.records().map((r) => r.offset)).toEqual(["0", "1"]);
    }, timeout);

    test("event log: a new group starts at the earliest offset by default", async () => {
      const log = await fresh();
      const t = name("earliest");
      await log.ensureTopics([{ name: t, partitions: 1 }]);
      await log.append(t, [1, 2, 3].map((i) => ({ key: "k", value: enc(i) })));
      const c = start(log, { group: name("g"), topics: [t] });
      await until("3 records", () => c.records().length >= 3);
      await c.stop();
      expect(c.records().map((r) => dec<number>(r.value))).toEqual([1, 2, 3]);
    }, timeout);

    test("event log: a new group with fromBeginning false starts at the end", async () => {
      const log = await fresh();
      const t = name("latest");
      await log.ensureTopics([{ name: t, partitions: 2 }]);
      await log.append(t, ["a", "b", "c"].map((k) => ({ key: k, value: enc("old") })));
      const c = start(log, { group: name("g"), topics: [t], fromBeginning: false });
      await until("a new record", () => c.records().length > 0, 15_000, () => log.append(t, [{ key: "a", value: enc("new") }]));
      await c.stop();
      expect(c.records().every((r) => dec<string>(r.value) === "new")).toBe(true);
    }, timeout);

    test("event log: a throwing handler gets the same batch again after a backoff; nothing is committed before", async () => {
      const log = await fresh();
      const t = name("retry");
      await log.ensureTopics([{ name: t, partitions: 1 }]);
      await log.append(t, [1, 2, 3].map((i) => ({ key: "k", value: enc(i) })));
      const seen: Array<{ at: number; offsets: string[] }> = [];
      const group = name("g");
      const c = start(log, {
        group, topics: [t],
        handle: async (b) => {
          seen.push({ at: Date.now(), offsets: b.records.map((r) => r.offset) });
          if (seen.length <= 2) throw new Error("boom");
        },
      });
      await until("a successful delivery", () => c.batches.length > 0);
      await c.stop();
      expect(seen.length).toBe(3);
      expect(seen[1]!.offsets).toEqual(seen[0]!.offsets);
      expect(seen[2]!.offsets).toEqual(seen[0]!.offsets);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(20);
      // Committed after success: the group resumes past these records.
      await log.append(t, [{ key: "k", value: enc(4) }]);
      const again = start(log, { group, topics: [t] });
      await until("the next record", () => again.records().length > 0);
      await again.stop();
      expect(again.records().map((r) => dec<number>(r.value))).toEqual([4]);
    }, timeout);

    test("event log: after a restart, consumption resumes from the last committed offset", async () => {
      const t = name("restart");
      const group = name("g");
      const first = await fresh();
      await first.ensureTopics([{ name: t, partitions: 1 }]);
      await first.append(t, Array.from({ length: 10 }, (_, i) => ({ key: "k", value: enc(i) })));
      let failures = 0;
      const a = start(first, {
        group, topics: [t], maxBatch: 3,
        handle: async (b) => {
          if (dec<number>(b.records[0]!.value) >= 3) {
            failures++;
            throw new Error("fail after the first batch");
          }
        },
      });
      await until("a retried failure", () => failures >= 2);
      await a.stop();
      expect(a.records().map((r) => dec<number>(r.value))).toEqual([0, 1, 2]);
      await first.close();
      const second = await fresh();
      const b = start(second, { group, topics: [t], maxBatch: 3 });
      await until("the 7 uncommitted records", () => b.records().length >= 7);
      await b.stop();
      expect(b.records().map((r) => dec<number>(r.value))).toEqual([3, 4, 5, 6, 7, 8, 9]);
    }, timeout);

    test("event log: on abort the consumer finishes the batch in hand, commits it and resolves", async () => {
      const log = await fresh();
      const t = name("drain");
      const group = name("g");
      await log.ensureTopics([{ name: t, partitions: 1 }]);
      await log.append(t, [{ key: "k", value: enc("slow") }]);
      const ac = new AbortController();
      let finished = 0;
      const done = log.consume({
        group, topics: [t], signal: ac.signal,
        handle: async () => {
          ac.abort();
          await wait(300);
          finished = Date.now();
        },
      });
      await done;
      expect(finished).toBeGreaterThan(0);
      await log.append(t, [{ key: "k", value: enc("next") }]);
      const c = start(log, { group, topics: [t] });
      await until("the next record", () => c.records().length > 0);
      await c.stop();
      expect(c.records().map((r) => dec<string>(r.value))).toEqual(["next"]);
    }, timeout);

    test("event log: group members split partitions, never share one at a time, and a survivor takes over", async () => {
      const [x, y] = [await fresh(), await fresh()];
      const t = name("group");
      const group = name("g");
      await x.ensureTopics([{ name: t, partitions: 4 }]);
      const inflight = new Set<number>();
      let overlaps = 0;
      const handle = async (b: EventBatch) => {
        if (inflight.has(b.partition)) overlaps++;
        inflight.add(b.partition);
        await wait(10);
        inflight.delete(b.partition);
      };
      const a = start(x, { group, topics: [t], handle });
      const b = start(y, { group, topics: [t], handle });
      let i = 0;
      const burst = () => x.append(t, Array.from({ length: 16 }, () => ({ key: `k${i}`, value: enc(i++) })));
      await until(() => `both members to receive work (batches: ${a.batches.length}, ${b.batches.length})`, () => a.batches.length > 0 && b.batches.length > 0, 20_000, async () => {
        await burst();
        await wait(100);
      });
      await a.stop();
      const from = i;
      for (let r = 0; r < 4; r++) await burst();
      const got = () => new Set(b.records().map((r) => dec<number>(r.value)).filter((v) => v >= from));
      await until(() => `the survivor to get every later record (${got().size} of ${i - from})`, () => got().size >= i - from, 20_000);
      await b.stop();
      expect(overlaps).toBe(0);
      expect(new Set(b.records().filter((r) => dec<number>(r.value) >= from).map((r) => r.partition))).toEqual(new Set([0, 1, 2, 3]));
      const all = new Set([...a.records(), ...b.records()].map((r) => dec<number>(r.value)));
      for (let v = 0; v < i; v++) expect(all.has(v)).toBe(true);
    }, Math.max(timeout, 45_000));

    test("event log: deadLetter appends to <topic>.dlq with the reason and origin in headers", async () => {
      const log = await fresh();
      const t = name("poison");
      await log.ensureTopics([{ name: t, partitions: 2 }]);
      await log.append(t, [{ key: "bad", value: enc("poison"), headers: { trace: "t1" } }]);
      const c = start(log, { group: name("g"), topics: [t], handle: async (b) => log.deadLetter(b.records[0]!, "cannot decode") });
      await until("the poison record", () => c.records().length > 0);
      await c.stop();
      const origin = c.records()[0]!;
      const d = start(log, { group: name("g"), topics: [`${t}.dlq`] });
      await until("the dead letter", () => d.records().length > 0);
      await d.stop();
      const dl = d.records()[0]!;
      expect(dl.key).toBe("bad");
      expect(dec<string>(dl.value)).toBe("poison");
      expect(dl.headers).toMatchObject({
        trace: "t1",
        "x-dlq-reason": "cannot decode",
        "x-dlq-topic": t,
        "x-dlq-partition": String(origin.partition),
        "x-dlq-offset": origin.offset,
      });
    }, timeout);

    test("event log: healthy is true while open and false after close", async () => {
      const log = await fresh();
      expect(await log.healthy()).toBe(true);
      await log.close();
      expect(await log.healthy()).toBe(false);
    }, timeout);

    test("event log: close lets pending appends finish first", async () => {
      const log = await fresh();
      const t = name("close");
      await log.ensureTopics([{ name: t, partitions: 1 }]);
      const pending = Array.from({ length: 20 }, (_, i) => log.append(t, [{ key: "k", value: enc(i) }]));
      await log.close();
      await Promise.all(pending);
      const reader = await fresh();
      const c = start(reader, { group: name("g"), topics: [t] });
      await until("20 records", () => c.records().length >= 20);
      await c.stop();
      expect(c.records().map((r) => dec<number>(r.value))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }, timeout);
  });
}
