// Servers restarting under load: every message the platform accepted (202) ends up in history,
// exactly once and densely sequenced. Requests made while a server is down may be refused (503),
// never accepted and then lost.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createEventLog } from "@chat4all/eventlog";
import { TOPICS, decodeAccountCreated } from "@chat4all/events";
import { call, eventually, newUser } from "../support/client.ts";

const A = process.env.C4A_GATEWAY_A ?? "http://127.0.0.1:3000";
const B = process.env.C4A_GATEWAY_B ?? "http://127.0.0.1:3001";
const infra = join(import.meta.dir, "..", "..", "infra");

async function sh(...args: string[]) {
  const proc = Bun.spawn(["bash", ...args], { stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${args.join(" ")} failed (${code}): ${await new Response(proc.stderr).text()}`);
}

async function history(token: string, conversationId: string) {
  const all: any[] = [];
  let before = "";
  for (;;) {
    const r = await call(A, "GET", `/v1/messages/${conversationId}?limit=100${before}`, { token });
    if (r.status !== 200) throw new Error(`history: ${r.status}`);
    all.push(...r.body);
    if (r.body.length < 100) return all;
    before = `&before_sequence=${r.body[r.body.length - 1].sequence_number}`;
  }
}

/** Sends steadily through both gateways while `disrupt` runs; returns the keys that were accepted. */
async function sendDuring(token: string, conversationId: string, disrupt: () => Promise<void>) {
  const accepted: string[] = [];
  let refused = 0;
  let stop = false;
  const sender = (async () => {
    for (let i = 0; !stop; i++) {
      const key = crypto.randomUUID();
      const r = await call(i % 2 ? A : B, "POST", "/v1/messages", { token, body: { idempotency_key: key, conversation_id: conversationId, content: `m${i}` } }).catch(() => ({ status: 0 }));
      if (r.status === 202) accepted.push(key);
      else refused++;
      await Bun.sleep(20);
    }
  })();
  await Bun.sleep(500);
  await disrupt();
  await Bun.sleep(1_500);
  stop = true;
  await sender;
  return { accepted, refused };
}

async function expectAllStored(token: string, conversationId: string, accepted: string[]) {
  await eventually(async () => (await history(token, conversationId).catch(() => [])).length >= accepted.length, 90_000, 500);
  await Bun.sleep(1_500);
  const h = await history(token, conversationId);
  const ids = new Set(h.map((m) => m.message_id));
  expect(accepted.filter((k) => !ids.has(k))).toEqual([]);
  expect(h.length).toBe(ids.size); // no duplicates
  expect(h.map((m) => m.sequence_number)).toEqual(Array.from({ length: h.length }, (_, i) => h.length - i));
}

/** Resolves once `user.account.created.v1` holds an event for `userId` (read from the start of the topic). */
async function accountAnnounced(userId: string, username: string, timeoutMs: number) {
  const brokers = (process.env.C4A_KAFKA_BROKERS ?? "").split(",").filter(Boolean);
  const log = await createEventLog({ backend: "kafka", brokers, clientId: `faults-test-${process.pid}` });
  const ac = new AbortController();
  let found: ReturnType<typeof decodeAccountCreated> | undefined;
  const consuming = log.consume({
    group: `faults-test-${crypto.randomUUID()}`,
    topics: [TOPICS.accountCreated],
    signal: ac.signal,
    handle: async (b) => {
      for (const r of b.records) if (r.key === userId) found = decodeAccountCreated(r.value);
      if (found) ac.abort();
    },
  });
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  await consuming;
  clearTimeout(timer);
  await log.close();
  expect(found).toMatchObject({ userId, username });
}

describe("faults", () => {
  for (const server of ["nats", "kafka", "cassandra"] as const)
    test(`cluster: ${server} restarting under load loses no accepted message`, async () => {
      const a = await newUser(A, "fault");
      const b = await newUser(A, "fault");
      const conversationId = (await call(A, "POST", "/v1/conversations", { token: a.token, body: { type: "private", members: [b.id] } })).body.conversation_id;
      let registered: Awaited<ReturnType<typeof newUser>> | undefined;
      const { accepted } = await sendDuring(a.token, conversationId, async () => {
        await sh(join(infra, "down.sh"), server);
        await Bun.sleep(1_000);
        // Signing up does not need the event log: the account's event waits in the metadata outbox.
        if (server === "kafka") registered = await newUser(B, "outage");
        await sh(join(infra, "up.sh"), server);
      });
      expect(accepted.length).toBeGreaterThan(10);
      await expectAllStored(a.token, conversationId, accepted);
      // The cluster is fully usable again.
      await eventually(async () => (await call(B, "GET", "/ready")).status === 200, 60_000, 500);
      if (registered) await accountAnnounced(registered.id, registered.username, 60_000);
    }, 240_000);
});
