import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEventLogContract } from "./contract.ts";
import { createEventLog } from "./create.ts";
import type { EventBatch } from "./event-log.ts";
import { SqliteEventLog } from "./event-log-sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "c4a-eventlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describeEventLogContract("sqlite file", async () => new SqliteEventLog({ path: join(dir, "contract.db"), retryBaseMs: 30 }));

describe("sqlite event log", () => {
  test("sqlite event log: concurrent appends of one turn are committed in one transaction", async () => {
    const log = new SqliteEventLog({ path: ":memory:" });
    await log.ensureTopics([{ name: "t", partitions: 4 }]);
    const before = log.commits;
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => log.append("t", [{ key: `k${i}`, value: enc(i) }])));
    expect(log.commits - before).toBe(1);
    const t0 = performance.now();
    const n = 20_000;
    await Promise.all(Array.from({ length: n }, (_, i) => log.append("t", [{ key: `conv-${i % 97}`, value: new Uint8Array(200) }])));
    console.log(`sqlite event log: ${n} concurrent appends: ${Math.round(n / ((performance.now() - t0) / 1000))} appends/s`);
    await log.close();
  });

  test("sqlite event log: a consumer is woken by an append, not by its poll", async () => {
    const log = new SqliteEventLog({ path: ":memory:", pollMs: 60_000 });
    await log.ensureTopics([{ name: "t", partitions: 2 }]);
    const ac = new AbortController();
    let got = 0;
    const done = log.consume({ group: "g", topics: ["t"], signal: ac.signal, handle: async () => void (got = performance.now()) });
    await Bun.sleep(50);
    const sent = performance.now();
    await log.append("t", [{ key: "k", value: enc(1) }]);
    await Bun.sleep(100);
    ac.abort();
    await done;
    expect(got).toBeGreaterThan(0);
    expect(got - sent).toBeLessThan(50);
    await log.close();
  });

  test("sqlite event log: a resolved append survives a process crash", async () => {
    const path = join(dir, "crash.db");
    const script = join(dir, "crash-child.ts");
    await Bun.write(
      script,
      `import { SqliteEventLog } from ${JSON.stringify(join(import.meta.dir, "event-log-sqlite.ts"))};
       const log = new SqliteEventLog({ path: ${JSON.stringify(path)}, synchronous: "normal" });
       await log.ensureTopics([{ name: "t", partitions: 3 }]);
       await Promise.all(Array.from({ length: 300 }, (_, i) => log.append("t", [{ key: "k" + i, value: new TextEncoder().encode(String(i)) }])));
       process.kill(process.pid, "SIGKILL");`,
    );
    const child = Bun.spawn(["bun", script], { stdout: "inherit", stderr: "inherit" });
    expect(await child.exited).not.toBe(0);
    expect(child.signalCode).toBe("SIGKILL");
    const log = await createEventLog({ backend: "sqlite", path, synchronous: "full" });
    const seen = new Set<string>();
    const ac = new AbortController();
    await log.consume({
      group: "g", topics: ["t"], signal: ac.signal,
      handle: async (b: EventBatch) => {
        for (const r of b.records) seen.add(new TextDecoder().decode(r.value));
        if (seen.size >= 300) ac.abort();
      },
    });
    expect(seen.size).toBe(300);
    await log.close();
  });

  test("sqlite event log: retention prunes old records every group committed past, and nothing else", async () => {
    const log = new SqliteEventLog({ path: ":memory:", retentionMs: 1_000, pruneIntervalMs: 3_600_000 });
    await log.ensureTopics([{ name: "t", partitions: 1 }, { name: "orphan", partitions: 1 }]);
    await log.append("t", Array.from({ length: 10 }, (_, i) => ({ key: "k", value: enc(i) })));
    await log.append("orphan", [{ key: "k", value: enc("kept") }]);
    const consumeUpTo = async (group: string, count: number) => {
      const ac = new AbortController();
      let got = 0;
      await log.consume({ group, topics: ["t"], signal: ac.signal, maxBatch: count, handle: async (b) => void ((got += b.records.length) >= count && ac.abort()) });
    };
    await consumeUpTo("fast", 10);
    await consumeUpTo("slow", 4);
    expect(log.prune(Date.now())).toBe(0); // nothing older than retentionMs yet
    expect(log.prune(Date.now() + 5_000)).toBe(4); // only what "slow" has committed past
    const ac = new AbortController();
    const left: number[] = [];
    await log.consume({
      group: "new", topics: ["t"], signal: ac.signal,
      handle: async (b) => {
        left.push(...b.records.map((r) => Number(r.offset)));
        if (left.length >= 6) ac.abort();
      },
    });
    expect(left).toEqual([4, 5, 6, 7, 8, 9]);
    expect(log.prune(Date.now() + 5_000)).toBe(0); // "slow" is still at offset 4: nothing more to prune
    await log.close();
  });

  test("sqlite event log: the factory rejects an unknown backend", async () => {
    await expect(createEventLog({ backend: "nope" } as never)).rejects.toThrow('unknown event log backend: "nope"');
  });
});
