/**
 * EventLog: the durable, partitioned, replayable log every state change goes through.
 *
 * Contract (checked by `contract.ts` against every adapter):
 * - `append` resolves only once every record is durable (Kafka: acks=all, idempotent producer;
 *   embedded: committed to SQLite). Records with the same key land in the same partition, and
 *   within a partition keep the order in which they were appended.
 * - A topic has a fixed partition count, given to `ensureTopics`; appending to a topic that was not
 *   ensured fails.
 * - `consume` delivers each partition's records in offset order to exactly one member of a group at
 *   a time, in batches (one topic-partition per batch). Offsets are committed only after `handle`
 *   resolves; if `handle` throws, the same batch is delivered again (after a backoff), so a handler
 *   must be idempotent. After a restart, consumption resumes from the last committed offset: every
 *   uncommitted record is delivered again, none is skipped.
 * - A new group starts at the earliest offset (`fromBeginning: true`, default) or at the end.
 * - Poison records are the handler's decision: it calls `deadLetter` (which appends to
 *   `<topic>.dlq` with the reason and origin in headers) and returns normally.
 */
export interface EventLog {
  /** Creates the topics (and their `.dlq` twins, 1 partition each) if missing; idempotent. */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Appends records to one topic; resolves when all are durable. */
  append(topic: string, records: AppendRecord[]): Promise<void>;
  /** Consumes until `signal` aborts, then drains the batch in hand, commits, and resolves. */
  consume(opts: ConsumeOptions): Promise<void>;
  /** Appends `record` to `<record.topic>.dlq` with headers `x-dlq-reason`, `x-dlq-topic`, `x-dlq-partition`, `x-dlq-offset`. */
  deadLetter(record: EventRecord, reason: string): Promise<void>;
  /** True when the backend answers (for `/ready`). */
  healthy(): Promise<boolean>;
  /** Releases connections; pending appends finish first. */
  close(): Promise<void>;
}

/** A topic and its partition count. */
export interface TopicSpec {
  name: string;
  partitions: number;
}

/** One record to append. */
export interface AppendRecord {
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

/** One record as consumed. `offset` is a decimal string (Kafka offsets exceed 2^53 in theory). */
export interface EventRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  /** Epoch ms at which it was appended. */
  timestamp: number;
}

/** A batch from one topic-partition, in offset order. */
export interface EventBatch {
  topic: string;
  partition: number;
  records: EventRecord[];
}

/** How to consume. */
export interface ConsumeOptions {
  group: string;
  topics: string[];
  signal: AbortSignal;
  handle(batch: EventBatch): Promise<void>;
  /** Upper bound on records per batch (default 500). */
  maxBatch?: number;
  /** Start of a group with no committed offset: earliest (default) or latest. */
  fromBeginning?: boolean;
}
