import { describe, expect, test } from "bun:test";
import { describeEphemeralContract } from "./contract.ts";
import { createEphemeral } from "./create.ts";
import { MemoryEphemeral } from "./ephemeral-memory.ts";

describeEphemeralContract("memory", () => createEphemeral({ backend: "memory" }));

describe("memory ephemeral", () => {
  test("memory ephemeral: the sweeper drops expired keys and members without any read", async () => {
    const e = new MemoryEphemeral({ sweepMs: 3_600_000 });
    await e.set("a", "1", 50);
    await e.set("b", "2");
    await e.memberAdd("s", "m", 50);
    await e.incr("c", 50);
    expect(e.sweep()).toBe(4);
    expect(e.sweep(Date.now() + 100)).toBe(1);
    await e.close();
  });

  test("memory ephemeral: invalid TTLs and type mix-ups are refused", async () => {
    const e = new MemoryEphemeral();
    await expect(e.set("k", "v", 0)).rejects.toThrow();
    await expect(e.incr("k", -1)).rejects.toThrow();
    await e.set("k", "text");
    await expect(e.incr("k", 100)).rejects.toThrow();
    await expect(e.memberAdd("k", "m", 100)).rejects.toThrow();
    await e.close();
  });

  test("memory ephemeral: the factory rejects an unknown backend", async () => {
    await expect(createEphemeral({ backend: "memcached" } as never)).rejects.toThrow('unknown ephemeral backend: "memcached"');
  });
});
