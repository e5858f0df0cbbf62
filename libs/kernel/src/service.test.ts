import { describe, expect, test } from "bun:test";
import { createLimiter, runServices, singleFlight, sleep } from "./service.ts";

describe("service", () => {
  test("limiter: never runs more than max tasks at once, and runs every task", async () => {
    const limit = createLimiter(3);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limit(async () => {
          peak = Math.max(peak, ++active);
          await sleep(2);
          active--;
          if (i === 5) throw new Error("task 5");
          return i;
        }).catch((e: Error) => e.message),
      ),
    );
    expect(peak).toBe(3);
    expect(results[5]).toBe("task 5");
    expect(results.filter((r) => typeof r === "number")).toHaveLength(19);
  });

  test("runServices: the first failure stops the others and exits non-zero", async () => {
    let stopped = false;
    const code = await runServices(
      [
        { name: "fails", run: async () => { throw new Error("boom"); } },
        { name: "waits", run: (signal) => new Promise<void>((r) => signal.addEventListener("abort", () => { stopped = true; r(); })) },
      ],
      { log: () => {}, signals: false },
    );
    expect(code).toBe(1);
    expect(stopped).toBe(true);
  });
});

describe("singleFlight", () => {
  test("concurrent calls for one key share one call; other keys and later calls run their own", async () => {
    const calls: string[] = [];
    const release = new Map<string, () => void>();
    const read = singleFlight((key: string) => key, async (key: string) => {
      calls.push(key);
      await new Promise<void>((r) => release.set(key, r));
      return `${key}:${calls.length}`;
    });
    const a1 = read("a");
    const a2 = read("a");
    const b = read("b");
    expect(calls).toEqual(["a", "b"]);
    release.get("a")!();
    release.get("b")!();
    expect(await Promise.all([a1, a2, b])).toEqual(["a:2", "a:2", "b:2"]);
    const a3 = read("a"); // settled: the next call reads again
    expect(calls).toEqual(["a", "b", "a"]);
    release.get("a")!();
    expect(await a3).toBe("a:3");
  });

  test("a failure reaches every waiting caller and is not remembered", async () => {
    let n = 0;
    const read = singleFlight((key: string) => key, async (_key: string) => {
      n++;
      await sleep(5);
      if (n === 1) throw new Error("store down");
      return n;
    });
    const results = await Promise.allSettled([read("k"), read("k")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await read("k")).toBe(2);
  });
});
