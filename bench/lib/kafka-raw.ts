// The raw baseline of the machine: kafkajs produce → consume of N records of the pipeline's own
// size on a fresh topic with the same partition count, with the producer settings of the platform's
// Kafka adapter (idempotent, acks=all, one request in flight, ~512 KiB batches) and a consumer
// group like the pipeline's (eachBatch, 4 partitions at once). Bounded in time; cleans up after itself.
import { Kafka, Partitioners, logLevel } from "kafkajs";

/** Result of one baseline run. */
export interface RawResult {
  messages: number;
  value_bytes: number;
  partitions: number;
  produce_per_s: number;
  /** Records consumed per second, from the first produce to the last consume. */
  raw_per_s: number;
  seconds: number;
  complete: boolean;
}

/** Partition count of `topic` (the pipeline's input), or `fallback` when it cannot be read. */
export async function partitionsOf(brokers: string[], topic: string, fallback: number): Promise<number> {
  const admin = new Kafka({ clientId: "bench-meta", brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length || fallback;
  } catch {
    return fallback;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Produces `messages` records of `valueBytes` bytes keyed by `keys` and consumes them back. */
export async function kafkaRaw(opts: {
  brokers: string[];
  messages: number;
  valueBytes: number;
  partitions: number;
  keys: string[];
  timeoutMs?: number;
  log: (line: string) => void;
}): Promise<RawResult> {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const topic = `bench.raw.${id}`;
  const kafka = new Kafka({ clientId: `bench-raw-${id}`, brokers: opts.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `bench-raw-${id}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 1_000 });
  const n = opts.messages;
  const value = Buffer.alloc(opts.valueBytes, 0x61);
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: opts.partitions }], waitForLeaders: true });
    await Promise.all([producer.connect(), consumer.connect()]);
    let consumed = 0;
    let lastAt = 0;
    let allIn: () => void = () => {};
    const finished = new Promise<void>((r) => (allIn = r));
    let joined: () => void = () => {};
    const assigned = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        consumed += batch.messages.length;
        const last = batch.messages[batch.messages.length - 1];
        if (last) resolveOffset(last.offset);
        await heartbeat();
        if (consumed >= n) {
          lastAt = performance.now();
          allIn();
        }
      },
    });
    await Promise.race([assigned, Bun.sleep(15_000)]);
    const t0 = performance.now();
    const perBatch = Math.max(1, Math.floor((512 * 1024) / (opts.valueBytes + 60)));
    let produced = 0;
    let k = 0;
    while (produced < n && Date.now() < deadline) {
      const count = Math.min(perBatch, n - produced);
      const messages = Array.from({ length: count }, () => ({ key: opts.keys[k++ % opts.keys.length] as string, value }));
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
      produced += count;
    }
    const tp = performance.now();
    opts.log(`  kafka raw: produced ${produced} in ${((tp - t0) / 1000).toFixed(2)} s; consuming…`);
    await Promise.race([finished, Bun.sleep(Math.max(0, deadline - Date.now()))]);
    const end = lastAt || performance.now();
    const seconds = (end - t0) / 1000;
    return {
      messages: produced,
      value_bytes: opts.valueBytes,
      partitions: opts.partitions,
      produce_per_s: Math.round(produced / ((tp - t0) / 1000)),
      raw_per_s: Math.round(Math.min(consumed, produced) / seconds),
      seconds: Math.round(seconds * 100) / 100,
      complete: consumed >= produced && produced === n,
    };
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.deleteGroups([`bench-raw-${id}`]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
