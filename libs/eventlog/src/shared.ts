/** Checks and helpers shared by the EventLog adapters. */
import { sleep } from "@chat4all/kernel";
import type { AppendRecord, EventRecord, TopicSpec } from "./event-log.ts";

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Validated specs plus their `.dlq` twins (1 partition; none for a topic that is itself a `.dlq`). */
export function checkTopics(topics: TopicSpec[]): TopicSpec[] {
  const out = new Map<string, TopicSpec>();
  for (const t of topics) {
    if (!TOPIC_NAME.test(t.name)) throw new Error(`event log: invalid topic name ${JSON.stringify(t.name)}`);
    if (!Number.isInteger(t.partitions) || t.partitions < 1) throw new Error(`event log: topic ${t.name}: invalid partition count ${t.partitions}`);
    out.set(t.name, { name: t.name, partitions: t.partitions });
    if (!t.name.endsWith(".dlq")) out.set(`${t.name}.dlq`, { name: `${t.name}.dlq`, partitions: 1 });
  }
  return [...out.values()];
}

/** Throws when a record is not `{ key: string, value: Uint8Array, headers?: Record<string, string> }`. */
export function checkAppend(topic: string, records: AppendRecord[]): void {
  for (const r of records) {
    const ok =
      typeof r.key === "string" &&
      r.value instanceof Uint8Array &&
      (r.headers === undefined || Object.values(r.headers).every((v) => typeof v === "string"));
    if (!ok) throw new Error(`event log: append to ${topic}: a record needs a string key, a Uint8Array value and string headers`);
  }
}

/** The record `deadLetter` appends to `<topic>.dlq`: same key, value and headers, plus the reason and origin. */
export function dlqRecord(record: EventRecord, reason: string): AppendRecord {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      "x-dlq-reason": reason,
      "x-dlq-topic": record.topic,
      "x-dlq-partition": String(record.partition),
      "x-dlq-offset": record.offset,
    },
  };
}

/** Capped exponential backoff with jitter for handler retries (attempt ≥ 1). */
export function retryDelay(attempt: number, baseMs = 100, maxMs = 5_000): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 16));
  return d * (0.75 + Math.random() / 4);
}

/** Backoff of `keepConsuming`: first delay, cap, and how long a member must run for the backoff to start over. */
export interface RestartPolicy {
  baseMs: number;
  maxMs: number;
  resetAfterMs: number;
}

/**
 * Runs `member` (one consumer-group member) until `signal` aborts, starting a new one after a
 * backoff whenever it fails: a worker outlives any outage of its broker. `onRestart` hears each
 * failure with the delay before the next start.
 */
export async function keepConsuming(
  member: () => Promise<void>,
  signal: AbortSignal,
  onRestart: (err: unknown, attempt: number, delayMs: number) => void,
  policy: RestartPolicy = { baseMs: 500, maxMs: 10_000, resetAfterMs: 60_000 },
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    const started = Date.now();
    try {
      await member();
    } catch (err) {
      if (signal.aborted) return;
      if (Date.now() - started >= policy.resetAfterMs) attempt = 1;
      const delay = retryDelay(attempt, policy.baseMs, policy.maxMs);
      onRestart(err, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
