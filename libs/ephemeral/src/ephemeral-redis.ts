import { createClient } from "redis";
import type { Logger } from "@chat4all/kernel";
import type { Ephemeral } from "./ephemeral.ts";
import { checkTtl } from "./ttl.ts";

/** Options of the Redis ephemeral store. */
export interface RedisEphemeralOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** Prepended to every key, so instances and test runs can share one server (default ""). */
  keyPrefix?: string;
  logger?: Logger;
}

// INCR, and PEXPIRE only when the counter is new (or somehow has no TTL): fixed windows.
const INCR_TTL = `local v = redis.call('INCR', KEYS[1])
if v == 1 or redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v`;
// Member sets are sorted sets scored by expiry (server clock); the key lives as long as its last member.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const MEMBER_ADD = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], top[2])
return 1`;
const MEMBERS = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

function newClient(url: string, state: { connected: boolean }) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      // Give up on the first connection after a few tries; once connected, reconnect forever (capped backoff).
      reconnectStrategy: (retries: number, cause: Error) =>
        !state.connected && retries >= 3 ? cause : Math.min(5_000, 100 * 2 ** Math.min(retries, 6)) * (0.75 + Math.random() / 4),
    },
  });
}
type Client = ReturnType<typeof newClient>;

/**
 * Ephemeral on Redis (node-redis v6). `incr` and member sets run as Lua scripts (atomic; EVALSHA with
 * an EVAL fallback); `setIfAbsent` is SET NX PX. Commands fail fast while the connection is down
 * (no offline queue); the client reconnects by itself.
 */
export class RedisEphemeral implements Ephemeral {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #shas = new Map<string, string>();
  #closed = false;

  private constructor(client: Client, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /** Connects (the first connection must succeed) and returns the store. */
  static async connect(opts: RedisEphemeralOptions): Promise<RedisEphemeral> {
    const state = { connected: false };
    const client = newClient(opts.url, state);
    client.on("error", (err: unknown) => opts.logger?.warn("ephemeral: redis error", { error: err instanceof Error ? err : String(err) }));
    try {
      await client.connect();
      state.connected = true;
    } catch (cause) {
      client.destroy();
      throw new Error(`redis: connect to ${new URL(opts.url).host}`, { cause });
    }
    return new RedisEphemeral(client, opts.keyPrefix ?? "");
  }

  async #run<T>(what: string, key: string, fn: (k: string) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#prefix + key);
    } catch (cause) {
      throw new Error(`redis: ${what} ${key}`, { cause });
    }
  }

  /** Runs a script by SHA, loading it on first use or after the server forgot it. */
  async #script(script: string, key: string, args: string[]): Promise<unknown> {
    let sha = this.#shas.get(script);
    if (sha) {
      try {
        return await this.#client.evalSha(sha, { keys: [key], arguments: args });
      } catch (err) {
        if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
      }
    }
    sha = await this.#client.scriptLoad(script);
    this.#shas.set(script, sha);
    return this.#client.evalSha(sha, { keys: [key], arguments: args });
  }

  get(key: string): Promise<string | null> {
    return this.#run("get", key, async (k) => (await this.#client.get(k))?.toString() ?? null);
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.#run("set", key, async (k) => {
      await this.#client.set(k, value, ttlMs === undefined ? undefined : { expiration: { type: "PX", value: checkTtl(ttlMs) } });
    });
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    return this.#run("setIfAbsent", key, async (k) => (await this.#client.set(k, value, { condition: "NX", expiration: { type: "PX", value: ttl } })) !== null);
  }

  del(key: string): Promise<void> {
    return this.#run("del", key, async (k) => void (await this.#client.del(k)));
  }

  incr(key: string, ttlMs: number): Promise<number> {
    const ttl = checkTtl(ttlMs);
    return this.#run("incr", key, async (k) => Number(await this.#script(INCR_TTL, k, [String(ttl)])));
  }

  ttl(key: string): Promise<number> {
    return this.#run("ttl", key, async (k) => Number(await this.#client.pTTL(k)));
  }

  memberAdd(key: string, member: string, ttlMs: number): Promise<void> {
    const ttl = checkTtl(ttlMs);
    return this.#run("memberAdd", key, async (k) => void (await this.#script(MEMBER_ADD, k, [member, String(ttl)])));
  }

  memberRemove(key: string, member: string): Promise<void> {
    return this.#run("memberRemove", key, async (k) => void (await this.#client.zRem(k, member)));
  }

  members(key: string): Promise<string[]> {
    return this.#run("members", key, async (k) => ((await this.#script(MEMBERS, k, [])) as unknown[]).map(String));
  }

  async healthy(): Promise<boolean> {
    if (this.#closed || !this.#client.isReady) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), 2_000)));
    const ok = await Promise.race([this.#client.ping().then((r) => r === "PONG", () => false), timeout]);
    clearTimeout(timer);
    return ok;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }
}
