export type { Ephemeral } from "./ephemeral.ts";
export { type EphemeralConfig, ephemeralConfigSchema, createEphemeral } from "./create.ts";
export { MemoryEphemeral } from "./ephemeral-memory.ts";
export { type RedisEphemeralOptions, RedisEphemeral } from "./ephemeral-redis.ts";
