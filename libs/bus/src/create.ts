import * as v from "valibot";
import type { Logger } from "@chat4all/kernel";
import type { Bus } from "./bus.ts";
import { MemoryBroker, MemoryBus } from "./bus-memory.ts";
import { NatsBus } from "./bus-nats.ts";

/** Config of the bus: `memory` (one process) or `nats` (cluster). */
export const busConfigSchema = v.variant("backend", [
  v.object({ backend: v.literal("memory") }),
  v.object({
    backend: v.literal("nats"),
    servers: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1), v.description("nats://host:port URLs")),
    name: v.optional(v.string()),
    reconnectMaxMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  }),
]);

/** Bus config (the schema's output). */
export type BusConfig = v.InferOutput<typeof busConfigSchema>;

/** Opens the configured bus (NATS: the first connection must succeed). Memory buses sharing `deps.broker` see each other. */
export async function createBus(config: BusConfig, deps: { logger?: Logger; broker?: MemoryBroker } = {}): Promise<Bus> {
  switch (config.backend) {
    case "memory":
      return new MemoryBus({ broker: deps.broker, logger: deps.logger });
    case "nats":
      return NatsBus.connect({ ...config, logger: deps.logger });
    default:
      throw new Error(`unknown bus backend: "${(config as { backend: unknown }).backend}"`);
  }
}
