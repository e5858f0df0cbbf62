import type { EventBatch, EventLog, EventRecord } from "@chat4all/eventlog";
import { PoisonEventError } from "@chat4all/events";
import type { Logger, Service } from "@chat4all/kernel";

/** A decoded event with the record it came from (for dead-lettering). */
export interface Decoded<T> {
  value: T;
  record: EventRecord;
}

/**
 * A consumer service over the EventLog: decodes each record, sends undecodable or invalid ones to
 * the dead-letter topic with the reason, and hands the good ones of a batch to `process`. Offsets
 * are committed by the EventLog only after `process` resolves, so `process` must be idempotent.
 */
export function createConsumerService<T>(opts: {
  name: string;
  events: EventLog;
  group: string;
  topics: string[];
  decode: (value: Uint8Array) => T;
  process: (items: Decoded<T>[], batch: EventBatch) => Promise<void>;
  log: Logger;
  maxBatch?: number;
}): Service {
  const log = opts.log.child({ service: opts.name });
  return {
    name: opts.name,
    run: (signal) =>
      opts.events.consume({
        group: opts.group,
        topics: opts.topics,
        signal,
        maxBatch: opts.maxBatch,
        handle: async (batch) => {
          // Decoding is synchronous; only poison records (rare) cost a round trip, in offset order.
          const items: Decoded<T>[] = [];
          let poison: { record: EventRecord; reason: string }[] | undefined;
          for (const record of batch.records) {
            try {
              items.push({ value: opts.decode(record.value), record });
            } catch (err) {
              if (!(err instanceof PoisonEventError)) throw err;
              (poison ??= []).push({ record, reason: err.message });
            }
          }
          for (const { record, reason } of poison ?? []) {
            log.warn("poison event sent to dead-letter topic", { topic: record.topic, partition: record.partition, offset: record.offset, reason });
            await opts.events.deadLetter(record, reason);
          }
          if (items.length > 0) await opts.process(items, batch);
        },
      }),
  };
}

/** Groups items by a key, keeping first-seen order of keys and of items within a key. */
export function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** Runs `fn` over items with at most `limit` in flight; rejects on the first failure. */
export async function forEachLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
