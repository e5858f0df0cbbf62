import { type Admin, type EachBatchPayload, Kafka, type KafkaMessage, type LogEntry, Partitioners, type Producer, logLevel } from "kafkajs";
import { type Logger, sleep } from "@chat4all/kernel";
import type { AppendRecord, ConsumeOptions, EventBatch, EventLog, EventRecord, TopicSpec } from "./event-log.ts";
import { partitionFor } from "./partitioner.ts";
import { checkAppend, checkTopics, dlqRecord, keepConsuming, retryDelay } from "./shared.ts";

/** Options of the Kafka event log. */
export interface KafkaEventLogOptions {
  brokers: string[];
  clientId: string;
  /** Appends arriving within this window are sent as ONE sendBatch (default 1 ms; 0 = next turn). */
  lingerMs?: number;
  /** Upper bound on the value bytes of one sendBatch (default 512 KiB; a single larger append goes alone). */
  maxBatchBytes?: number;
  /** An append not acknowledged by then is rejected (the producer keeps retrying it; default 30 s). */
  appendTimeoutMs?: number;
  /** Replication factor of created topics (default: the broker's default). */
  replicationFactor?: number;
  /** Partitions handled at once by one consumer (default 4). */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest a fetch waits for new records (default 500 ms; a fetch returns as soon as any record arrives, so this only sets how often an idle consumer polls). */
  maxWaitTimeInMs?: number;
  /** Handler retry backoff: base and cap in ms (defaults 100 and 5000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** kafkajs errors go to `warn`, its warnings to `debug`; silent without a logger. */
  logger?: Logger;
}

interface Pending {
  topic: string;
  messages: Array<{ key: string; value: Buffer; headers?: Record<string, string>; partition: number }>;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const toBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const toBytes = (b: Buffer | null) => (b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0));

function toRecord(topic: string, partition: number, m: KafkaMessage): EventRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) headers[k] = last.toString();
  }
  return { topic, partition, offset: m.offset, key: m.key?.toString() ?? "", value: toBytes(m.value), headers, timestamp: Number(m.timestamp) };
}

function quietLogger(logger: Logger | undefined) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      if (!logger) return;
      const { message, timestamp: _t, logger: _l, ...extra } = log;
      if (level <= logLevel.ERROR) logger.warn(`kafkajs: ${message}`, { namespace, ...extra });
      else logger.debug(`kafkajs: ${message}`, { namespace, ...extra });
    };
}

/**
 * EventLog on Kafka (kafkajs): an idempotent producer (acks=all, one request in flight) fed by a
 * coalescer — concurrent appends within `lingerMs`, or queued behind the request in flight, go out
 * as one `sendBatch`. Partition = Kafka's murmur2 of the key (same as the SQLite adapter).
 * Consumers use `eachBatch`: records are resolved and committed only after `handle` resolves.
 */
export class KafkaEventLog implements EventLog {
  readonly #opts: KafkaEventLogOptions;
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #partitions = new Map<string, Promise<number>>();
  readonly #stop = new AbortController();
  readonly #consumers = new Set<Promise<void>>();
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(opts: KafkaEventLogOptions) {
    this.#opts = opts;
    this.#kafka = new Kafka({ clientId: opts.clientId, brokers: opts.brokers, logLevel: logLevel.WARN, logCreator: quietLogger(opts.logger) });
    this.#producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.#admin = this.#kafka.admin();
  }

  /** Connects the producer and the admin client. */
  static async connect(opts: KafkaEventLogOptions): Promise<KafkaEventLog> {
    const log = new KafkaEventLog(opts);
    try {
      await Promise.all([log.#producer.connect(), log.#admin.connect()]);
    } catch (cause) {
      await Promise.allSettled([log.#producer.disconnect(), log.#admin.disconnect()]);
      throw new Error(`kafka: connect to ${opts.brokers.join(",")}`, { cause });
    }
    return log;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.#assertOpen();
    const specs = checkTopics(topics);
    const names = specs.map((s) => s.name);
    // Idempotent, so retried (e.g. a broker still loading after a restart).
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#admin.createTopics({
          topics: specs.map((s) => ({ topic: s.name, numPartitions: s.partitions, replicationFactor: this.#opts.replicationFactor ?? -1 })),
          waitForLeaders: true,
        });
        break;
      } catch (cause) {
        if (attempt >= 4) {
          throw new Error(`kafka: create topics ${names.join(", ")}`, { cause });
        }
        await sleep(retryDelay(attempt, 200, 2_000));
      }
    }
    const meta = await this.#admin.fetchTopicMetadata({ topics: names });
    for (const s of specs) {
      const found = meta.topics.find((t) => t.name === s.name)?.partitions.length;
      if (found !== s.partitions) throw new Error(`kafka: topic ${s.name} has ${found} partitions, not ${s.partitions}`);
      this.#partitions.set(s.name, Promise.resolve(found));
    }
  }

  /** Partition count of `topic`, looked up once; rejects (and forgets) when the topic does not exist. */
  #partitionCount(topic: string): Promise<number> {
    let p = this.#partitions.get(topic);
    if (!p) {
      p = this.#admin.fetchTopicMetadata({ topics: [topic] }).then(
        (m) => {
          const n = m.topics[0]?.partitions.length ?? 0;
          if (n > 0) return n;
          throw new Error(`kafka: topic ${topic} not ensured`);
        },
        (cause: unknown) => {
          const missing = (cause as { type?: string })?.type === "UNKNOWN_TOPIC_OR_PARTITION";
          throw new Error(`kafka: topic ${topic} ${missing ? "not ensured" : "metadata unavailable"}`, { cause });
        },
      );
      p.catch(() => this.#partitions.delete(topic));
      this.#partitions.set(topic, p);
    }
    return p;
  }

  async append(topic: string, records: AppendRecord[]): Promise<void> {
    if (this.#closed) throw new Error(`kafka: append to ${topic}: closed`);
    checkAppend(topic, records);
    const count = await this.#partitionCount(topic);
    if (records.length === 0) return;
    let bytes = 0;
    const messages = records.map((r) => {
      bytes += r.value.byteLength + r.key.length + 16;
      for (const [k, v] of Object.entries(r.headers ?? {})) bytes += k.length + v.length + 8;
      return { key: r.key, value: toBuffer(r.value), headers: r.headers, partition: partitionFor(r.key, count) };
    });
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ topic, messages, bytes, resolve, reject });
      this.#pendingBytes += bytes;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#sending) return; // flushed as soon as the request in flight completes
    if (this.#pendingBytes >= (this.#opts.maxBatchBytes ?? 512 * 1024)) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#sending = this.#drain();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#sending) this.#sending = this.#drain();
      }, this.#opts.lingerMs ?? 1);
    }
  }

  /** Sends pending appends, one sendBatch at a time, until none is left. */
  async #drain(): Promise<void> {
    const max = this.#opts.maxBatchBytes ?? 512 * 1024;
    try {
      while (this.#pending.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.#pending.length && (n === 0 || bytes + this.#pending[n]!.bytes <= max)) bytes += this.#pending[n++]!.bytes;
        const batch = this.#pending.splice(0, n);
        this.#pendingBytes -= bytes;
        const byTopic = new Map<string, Pending["messages"]>();
        for (const a of batch) {
          const list = byTopic.get(a.topic);
          if (list) for (const m of a.messages) list.push(m);
          else byTopic.set(a.topic, [...a.messages]);
        }
        const send = this.#producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("not acknowledged in time")), this.#opts.appendTimeoutMs ?? 30_000);
        });
        await Promise.race([send, timeout]).then(
          () => batch.forEach((a) => a.resolve()),
          (cause) => batch.forEach((a) => a.reject(new Error(`kafka: append to ${a.topic}`, { cause }))),
        );
        clearTimeout(timer);
        await send.catch(() => {}); // keep order: never two requests in flight
      }
    } finally {
      this.#sending = null;
    }
  }

  consume(opts: ConsumeOptions): Promise<void> {
    const run = this.#consume(opts);
    this.#consumers.add(run);
    void run.finally(() => this.#consumers.delete(run)).catch(() => {});
    return run;
  }

  /**
   * Runs a group member until `signal` aborts. A broker that goes away and comes back must not
   * stop consumption: kafkajs restarts its consumer only after some errors (a group coordinator not
   * found while the broker reloads its offsets, for one, is fatal to it), so every crash it does not
   * recover from, and every failed (re)connect, starts a fresh member after a backoff. Nothing is
   * lost or skipped: offsets are committed only after the handler, so the new member resumes there.
   */
  async #consume(opts: ConsumeOptions): Promise<void> {
    this.#assertOpen();
    await Promise.all(opts.topics.map((t) => this.#partitionCount(t)));
    const signal = AbortSignal.any([opts.signal, this.#stop.signal]);
    await keepConsuming(() => this.#member(opts, signal), signal, (err, attempt, delayMs) =>
      this.#opts.logger?.warn("event log: consumer stopped; starting a new one", {
        group: opts.group, topics: opts.topics, attempt, delayMs: Math.round(delayMs), error: err instanceof Error ? err : String(err),
      }),
    );
  }

  /** One group member: resolves when `signal` aborts, rejects when it crashes for good. */
  async #member(opts: ConsumeOptions, signal: AbortSignal): Promise<void> {
    const o = this.#opts;
    const consumer = this.#kafka.consumer({
      groupId: opts.group,
      allowAutoTopicCreation: false,
      sessionTimeout: o.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: o.rebalanceTimeoutMs ?? 10_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 1_000,
      maxWaitTimeInMs: o.maxWaitTimeInMs ?? 500,
    });
    let crashed: (err: unknown) => void = () => {};
    const crash = new Promise<never>((_, reject) => (crashed = reject));
    crash.catch(() => {});
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) crashed(new Error(`kafka: consumer ${opts.group} crashed`, { cause: e.payload.error }));
    });
    const aborted = new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
    try {
      await Promise.race([
        (async () => {
          await consumer.connect();
          await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 4,
            eachBatch: (payload) => this.#eachBatch(opts, payload, signal),
          });
        })(),
        crash,
      ]);
      await Promise.race([aborted, crash]);
    } catch (cause) {
      throw new Error(`kafka: consume ${opts.topics.join(", ")} as ${opts.group}`, { cause });
    } finally {
      await consumer.disconnect().catch(() => {}); // waits for the batch in hand, then leaves the group
    }
  }

  async #eachBatch(opts: ConsumeOptions, p: EachBatchPayload, signal: AbortSignal): Promise<void> {
    const { topic, partition, messages } = p.batch;
    const max = Math.max(1, opts.maxBatch ?? 500);
    for (let i = 0; i < messages.length; i += max) {
      if (signal.aborted || !p.isRunning() || p.isStale()) return;
      const chunk = messages.slice(i, i + max);
      const batch: EventBatch = { topic, partition, records: chunk.map((m) => toRecord(topic, partition, m)) };
      if (!(await this.#handle(opts, batch, p, signal))) return;
      const last = chunk[chunk.length - 1]!.offset;
      p.resolveOffset(last);
      await p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
    }
  }

  /** Runs the handler (heartbeating meanwhile) until it succeeds; false when the consumer stops first. */
  async #handle(opts: ConsumeOptions, batch: EventBatch, p: EachBatchPayload, signal: AbortSignal): Promise<boolean> {
    const beat = setInterval(() => void p.heartbeat().catch(() => {}), this.#opts.heartbeatIntervalMs ?? 1_000);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await opts.handle(batch);
          return true;
        } catch (err) {
          this.#opts.logger?.warn("event log: handler failed; retrying the batch", {
            group: opts.group, topic: batch.topic, partition: batch.partition, attempt, error: err instanceof Error ? err : String(err),
          });
          if (signal.aborted || !p.isRunning()) return false;
          await sleep(retryDelay(attempt, this.#opts.retryBaseMs, this.#opts.retryMaxMs), signal);
          if (signal.aborted || !p.isRunning()) return false;
          await p.heartbeat(); // throws when the group rebalances: the batch goes to the new owner
        }
      }
    } finally {
      clearInterval(beat);
    }
  }

  deadLetter(record: EventRecord, reason: string): Promise<void> {
    return this.append(`${record.topic}.dlq`, [dlqRecord(record, reason)]);
  }

  async healthy(): Promise<boolean> {
    if (this.#closing) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), 3_000)));
    const probe = this.#admin.describeCluster().then((c) => c.brokers.length > 0, () => false);
    const ok = await Promise.race([probe, timeout]);
    clearTimeout(timer);
    return ok;
  }

  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.#stop.abort();
      await Promise.allSettled([...this.#consumers]);
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (!this.#sending && this.#pending.length > 0) this.#sending = this.#drain();
      while (this.#sending) await this.#sending;
      await Promise.allSettled([this.#producer.disconnect(), this.#admin.disconnect()]);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error("kafka: event log closed");
  }
}
