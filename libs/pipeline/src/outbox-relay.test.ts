import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EventLog, type EventRecord, createEventLog } from "@chat4all/eventlog";
import { createLogger } from "@chat4all/kernel";
import { type LocalMetadata, createMetadata } from "@chat4all/metadata";
import { createOutboxRelay } from "./outbox-relay.ts";

const log = createLogger("silent");
const enc = (s: string) => new TextEncoder().encode(s);
let dir: string;
let meta: LocalMetadata;
let events: EventLog;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "c4a-outbox-"));
  meta = createMetadata({ backend: "pglite" });
  await meta.store.init();
  events = await createEventLog({ backend: "sqlite", path: join(dir, "events.sqlite") });
  await events.ensureTopics([{ name: "accounts", partitions: 2 }, { name: "audit", partitions: 1 }]);
}, 60_000);
afterAll(async () => {
  await events.close();
  await meta.store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function readAll(topic: string, group: string, expected: number): Promise<EventRecord[]> {
  const got: EventRecord[] = [];
  const stop = new AbortController();
  const done = events.consume({ group, topics: [topic], signal: stop.signal, handle: async (b) => void got.push(...b.records) });
  for (let i = 0; i < 200 && got.length < expected; i++) await Bun.sleep(10);
  await Bun.sleep(50);
  stop.abort();
  await done;
  return got;
}

const account = (name: string, announce: { topic: string; key: string; value: Uint8Array }[]) =>
  meta.store.createUser({ id: crypto.randomUUID(), username: name, email: `${name}@relay.test`, name, passwordHash: "h", announce });

describe("outbox relay", () => {
  test("outbox relay: records committed with a user reach the event log, per topic in order, once acknowledged", async () => {
    await account("relay_a", [{ topic: "accounts", key: "a", value: enc("a1") }, { topic: "audit", key: "a", value: enc("audit a") }]);
    await account("relay_b", [{ topic: "accounts", key: "b", value: enc("b1") }]);
    const relay = createOutboxRelay({ outbox: meta.outbox, events, log });
    expect(await relay.relayOnce()).toBe(3);
    expect(await relay.relayOnce()).toBe(0); // acknowledged: nothing left
    const accounts = await readAll("accounts", "g-accounts", 2);
    expect(accounts.map((r) => [r.key, new TextDecoder().decode(r.value)]).sort()).toEqual([["a", "a1"], ["b", "b1"]]);
    expect((await readAll("audit", "g-audit", 1)).map((r) => r.key)).toEqual(["a"]);
  });

  test("outbox relay: an append that fails acknowledges nothing; the records go out once the lease runs out", async () => {
    await account("relay_c", [{ topic: "accounts", key: "c", value: enc("c1") }]);
    let fail = true;
    const flaky: EventLog = { ...events, append: async (t, r) => (fail ? Promise.reject(new Error("log down")) : events.append(t, r)) } as EventLog;
    const relay = createOutboxRelay({ outbox: meta.outbox, events: flaky, log }, { leaseMs: 30 });
    await expect(relay.relayOnce()).rejects.toThrow("log down");
    fail = false;
    expect(await relay.relayOnce()).toBe(0); // still leased to the failed round
    await Bun.sleep(50);
    expect(await relay.relayOnce()).toBe(1);
    expect((await readAll("accounts", "g-late", 3)).map((r) => r.key)).toContain("c");
  });

  test("outbox relay: the service relays until it is stopped", async () => {
    const relay = createOutboxRelay({ outbox: meta.outbox, events, log }, { idleMs: 5 });
    const stop = new AbortController();
    const running = relay.run(stop.signal);
    await account("relay_d", [{ topic: "audit", key: "d", value: enc("audit d") }]);
    const audit = await readAll("audit", "g-audit-2", 2);
    stop.abort();
    await running;
    expect(audit.map((r) => r.key)).toEqual(["a", "d"]);
  });
});
