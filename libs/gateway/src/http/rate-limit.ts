import type { Ephemeral } from "@chat4all/ephemeral";
import { rateLimited } from "@chat4all/kernel";

/** Fixed-window limiter over the Ephemeral port: at most `limit` hits per `windowMs` per key. */
export function createRateLimiter(ephemeral: Ephemeral, name: string, limit: number, windowMs = 60_000) {
  return async (key: string) => {
    if (limit <= 0) return;
    const slot = Math.floor(Date.now() / windowMs);
    const n = await ephemeral.incr(`ratelimit:${name}:${key}:${slot}`, windowMs);
    if (n > limit) {
      const retryAfter = Math.max(1, Math.ceil(((slot + 1) * windowMs - Date.now()) / 1000));
      throw rateLimited(`too many ${name} requests`, retryAfter);
    }
  };
}
