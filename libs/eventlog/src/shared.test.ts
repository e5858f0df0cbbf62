import { describe, expect, test } from "bun:test";
import { keepConsuming } from "./shared.ts";

const fast = { baseMs: 1, maxMs: 4, resetAfterMs: 60_000 };

describe("keepConsuming", () => {
  test("a member that fails is started again, with growing delays, until one runs until the abort", async () => {
    const stop = new AbortController();
    const heard: Array<{ attempt: number; error: string }> = [];
    let starts = 0;
    await keepConsuming(
      async () => {
        starts++;
        if (starts <= 3) throw new Error(`crash ${starts}`);
        stop.abort(); // the fourth member runs until shutdown
      },
      stop.signal,
      (err, attempt) => heard.push({ attempt, error: (err as Error).message }),
      fast,
    );
    expect(starts).toBe(4);
    expect(heard).toEqual([
      { attempt: 1, error: "crash 1" },
      { attempt: 2, error: "crash 2" },
      { attempt: 3, error: "crash 3" },
    ]);
  });

  test("a failure after the abort ends it without a restart", async () => {
    const stop = new AbortController();
    let starts = 0;
    await keepConsuming(
      async () => {
        starts++;
        stop.abort();
        throw new Error("disconnected by the shutdown");
      },
      stop.signal,
      () => expect.unreachable("no restart after the abort"),
      fast,
    );
    expect(starts).toBe(1);
  });

  test("the abort cuts the backoff short", async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    setTimeout(() => stop.abort(), 20);
    await keepConsuming(async () => Promise.reject(new Error("down")), stop.signal, () => {}, { baseMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 });
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  test("a member that ran long enough starts the backoff over", async () => {
    const stop = new AbortController();
    const attempts: number[] = [];
    let starts = 0;
    await keepConsuming(
      async () => {
        starts++;
        if (starts === 3) await Bun.sleep(15); // ran longer than resetAfterMs
        if (starts === 5) return stop.abort();
        throw new Error("crash");
      },
      stop.signal,
      (_e, attempt) => attempts.push(attempt),
      { baseMs: 1, maxMs: 2, resetAfterMs: 10 },
    );
    expect(attempts).toEqual([1, 2, 1, 2]);
  });
});
