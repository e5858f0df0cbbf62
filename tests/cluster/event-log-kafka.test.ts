import { afterAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { createEventLog } from "@chat4all/eventlog";
import { describeEventLogContract } from "@chat4all/eventlog/contract";

// Talks to loopback only: no proxies.
for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const raw = process.env.C4A_KAFKA_BROKERS;
if (!raw) throw new Error("C4A_KAFKA_BROKERS is not set (e.g. 127.0.0.1:59092); start Kafka with `bash infra/up.sh kafka`");
const brokers = raw.split(",").map((b) => b.trim()).filter(Boolean);

// Every topic of this run starts with this prefix; all of them are deleted at the end.
const prefix = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const tuned = { lingerMs: 1, sessionTimeoutMs: 6_000, maxWaitTimeInMs: 50 } as const;
const make = () => createEventLog({ backend: "kafka", brokers, clientId: `c4a-test-${prefix}`, ...tuned });

afterAll(async () => {
  const admin = new Kafka({ clientId: "c4a-test-cleanup", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}, 30_000);

describeEventLogContract(`kafka ${brokers.join(",")}`, make, { topicPrefix: prefix, timeoutMs: 30_000 });

describe("kafka event log", () => {
  test("kafka event log: heartbeats during a handler longer than the session timeout, so the batch is not redelivered", async () => {
    const log = await make();
    try {
      const topic = `${prefix}-long-handler`;
      await log.ensureTopics([{ name: topic, partitions: 1 }]);
      await log.append(topic, [{ key: "k", value: new Uint8Array([1]) }]);
      const ac = new AbortController();
      const deliveries: string[] = [];
      let finished = 0;
      const done = log.consume({
        group: `${prefix}-long`, topics: [topic], signal: ac.signal,
        handle: async (b) => {
          deliveries.push(...b.records.map((r) => r.offset));
          if (deliveries.length === 1) await Bun.sleep(tuned.sessionTimeoutMs + 1_500);
          finished = Date.now();
        },
      });
      while (!finished) await Bun.sleep(50);
      await Bun.sleep(2_500); // an expired member would rejoin and get the uncommitted batch again by now
      ac.abort();
      await done;
      expect(deliveries).toEqual(["0"]);
    } finally {
      await log.close();
    }
  }, 30_000);

  test("kafka event log: coalesces concurrent appends into few requests", async () => {
    const log = await make();
    try {
      const topic = `${prefix}-throughput`;
      await log.ensureTopics([{ name: topic, partitions: 4 }]);
      const value = new Uint8Array(200);
      await log.append(topic, [{ key: "warm", value }]);
      const n = 5_000;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: n }, (_, i) => log.append(topic, [{ key: `conv-${i % 97}`, value }])));
      const perSec = Math.round(n / ((performance.now() - t0) / 1000));
      console.log(`kafka event log: ${n} concurrent single-record appends: ${perSec} appends/s (coalesced, lingerMs 1)`);
      expect(perSec).toBeGreaterThan(1_000);
    } finally {
      await log.close();
    }
  }, 30_000);
});
