import * as v from "valibot";
import type { Logger } from "@chat4all/kernel";
import type { EventLog } from "./event-log.ts";
import { KafkaEventLog } from "./event-log-kafka.ts";
import { SqliteEventLog } from "./event-log-sqlite.ts";

const ms = (description: string) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description)));

/** Config of the event log: `sqlite` (embedded, one file) or `kafka` (cluster). Parse env-derived input with it. */
export const eventLogConfigSchema = v.variant("backend", [
  v.object({
    backend: v.literal("sqlite"),
    path: v.pipe(v.string(), v.minLength(1), v.description('database file, or ":memory:"')),
    retentionMs: ms("prune records older than this once every group committed past them"),
    pollMs: ms("fallback poll of idle consumers (default 1000)"),
    synchronous: v.optional(v.pipe(v.picklist(["normal", "full"]), v.description('"full" (default) survives power loss, "normal" a process crash'))),
  }),
  v.object({
    backend: v.literal("kafka"),
    brokers: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1), v.description("host:port of the bootstrap brokers")),
    clientId: v.pipe(v.string(), v.minLength(1)),
    lingerMs: ms("coalescing window of concurrent appends (default 1)"),
    replicationFactor: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    partitionsConsumedConcurrently: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    sessionTimeoutMs: ms("consumer group session timeout (default 10000)"),
    maxWaitTimeInMs: ms("longest fetch wait (default 100)"),
  }),
]);

/** Event log config (the schema's output). */
export type EventLogConfig = v.InferOutput<typeof eventLogConfigSchema>;

/** Opens the configured event log (Kafka: connects producer and admin first). */
export async function createEventLog(config: EventLogConfig, deps: { logger?: Logger } = {}): Promise<EventLog> {
  switch (config.backend) {
    case "sqlite":
      return new SqliteEventLog({ ...config, logger: deps.logger });
    case "kafka":
      return KafkaEventLog.connect({ ...config, logger: deps.logger });
    default:
      throw new Error(`unknown event log backend: "${(config as { backend: unknown }).backend}"`);
  }
}
