import { describe, expect, test } from "bun:test";
import { createLimiter, runServices, sleep } from "./service.ts";

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
