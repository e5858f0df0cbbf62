import { describe, expect, test } from "bun:test";
import { MemoryBroker, MemoryBus } from "./bus-memory.ts";
import { describeBusContract } from "./contract.ts";
import { createBus } from "./create.ts";
import { isSubscribePattern, subjectMatches } from "./subject.ts";

const broker = new MemoryBroker();
describeBusContract("memory", () => createBus({ backend: "memory" }, { broker }));

describe("memory bus", () => {
  test("memory bus: publish never runs handlers re-entrantly; delivery happens in a microtask", async () => {
    const bus = new MemoryBus();
    const order: string[] = [];
    bus.subscribe("a", () => order.push("handler"));
    bus.publish("a", new Uint8Array());
    order.push("after publish");
    await bus.flush();
    expect(order).toEqual(["after publish", "handler"]);
  });

  test("memory bus: a handler may publish; its messages are delivered in the same drain, after earlier ones", async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    bus.subscribe("x.*", (d, s) => {
      seen.push(s);
      if (s === "x.1") bus.publish("x.3", d);
    });
    bus.publish("x.1", new Uint8Array());
    bus.publish("x.2", new Uint8Array());
    await bus.flush();
    expect(seen).toEqual(["x.1", "x.2", "x.3"]);
  });

  test("memory bus: separate brokers are isolated, and invalid subjects are refused", async () => {
    const [a, b] = [new MemoryBus(), new MemoryBus()];
    let got = 0;
    b.subscribe("s", () => got++);
    a.publish("s", new Uint8Array());
    await a.flush();
    expect(got).toBe(0);
    expect(() => a.publish("a.*", new Uint8Array())).toThrow();
    expect(() => a.subscribe("a.>.b", () => {})).toThrow();
    expect(() => a.subscribe("", () => {})).toThrow();
  });

  test("memory bus: subject matching follows NATS", () => {
    const m = (p: string, s: string) => subjectMatches(p.split("."), s.split("."));
    expect(m(">", "a")).toBe(true);
    expect(m("a.>", "a")).toBe(false);
    expect(m("a.*", "a.b.c")).toBe(false);
    expect(m("*.*", "a.b")).toBe(true);
    expect(m("a.*.>", "a.b")).toBe(false);
    expect(m("a.*.>", "a.b.c")).toBe(true);
    expect(isSubscribePattern("a.b*")).toBe(false);
    expect(isSubscribePattern("*.>")).toBe(true);
  });

  test("memory bus: the factory rejects an unknown backend", async () => {
    await expect(createBus({ backend: "kafka" } as never)).rejects.toThrow('unknown bus backend: "kafka"');
  });
});
