import * as v from "valibot";
import type { Logger } from "@chat4all/kernel";
import type { Ephemeral } from "./ephemeral.ts";
import { MemoryEphemeral } from "./ephemeral-memory.ts";
import { RedisEphemeral } from "./ephemeral-redis.ts";

/** Config of the ephemeral store: `memory` (one process) or `redis` (cluster). */
export const ephemeralConfigSchema = v.variant("backend", [
  v.object({ backend: v.literal("memory") }),
  v.object({
    backend: v.literal("redis"),
    url: v.pipe(v.string(), v.url(), v.description("redis://host:port[/db]")),
    keyPrefix: v.optional(v.pipe(v.string(), v.description("prepended to every key (default none)"))),
  }),
]);

/** Ephemeral config (the schema's output). */
export type EphemeralConfig = v.InferOutput<typeof ephemeralConfigSchema>;

/** Opens the configured ephemeral store (Redis: the first connection must succeed). */
export async function createEphemeral(config: EphemeralConfig, deps: { logger?: Logger } = {}): Promise<Ephemeral> {
  switch (config.backend) {
    case "memory":
      return new MemoryEphemeral();
    case "redis":
      return RedisEphemeral.connect({ ...config, logger: deps.logger });
    default:
      throw new Error(`unknown ephemeral backend: "${(config as { backend: unknown }).backend}"`);
  }
}
