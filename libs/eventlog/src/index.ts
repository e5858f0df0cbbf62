export type { EventLog, TopicSpec, AppendRecord, EventRecord, EventBatch, ConsumeOptions } from "./event-log.ts";
export { type EventLogConfig, eventLogConfigSchema, createEventLog } from "./create.ts";
export { type SqliteEventLogOptions, SqliteEventLog } from "./event-log-sqlite.ts";
export { type KafkaEventLogOptions, KafkaEventLog } from "./event-log-kafka.ts";
export { murmur2, partitionFor } from "./partitioner.ts";
