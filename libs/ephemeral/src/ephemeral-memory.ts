import type { Ephemeral } from "./ephemeral.ts";
import { checkTtl } from "./ttl.ts";

type Entry = { kind: "value"; value: string; expiresAt: number } | { kind: "set"; members: Map<string, number> };

/**
 * Ephemeral in one process: a Map with per-key (and per-member) expiry, checked on every read, plus
 * an unref'd sweeper that drops expired entries so memory does not grow with dead keys.
 * Counters are stored as decimal strings, as in Redis.
 */
export class MemoryEphemeral implements Ephemeral {
  readonly #map = new Map<string, Entry>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(opts: { sweepMs?: number } = {}) {
    this.#sweeper = setInterval(() => this.sweep(), opts.sweepMs ?? 1_000);
    this.#sweeper.unref?.();
  }

  /** The live entry at `key` (expired entries are removed on the way). */
  #live(key: string, now = Date.now()): Entry | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.kind === "value" ? e.expiresAt <= now : this.#pruneSet(e.members, now) === 0) {
      this.#map.delete(key);
      return undefined;
    }
    return e;
  }

  #pruneSet(members: Map<string, number>, now: number): number {
    for (const [m, exp] of members) if (exp <= now) members.delete(m);
    return members.size;
  }

  #value(key: string): (Entry & { kind: "value" }) | undefined {
    const e = this.#live(key);
    if (e && e.kind !== "value") throw new Error(`ephemeral: ${key} holds a member set, not a value`);
    return e;
  }

  async get(key: string): Promise<string | null> {
    return this.#value(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const expiresAt = ttlMs === undefined ? Infinity : Date.now() + checkTtl(ttlMs);
    this.#map.set(key, { kind: "value", value, expiresAt });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    if (this.#live(key)) return false;
    this.#map.set(key, { kind: "value", value, expiresAt: Date.now() + ttl });
    return true;
  }

  async del(key: string): Promise<void> {
    this.#map.delete(key);
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    const ttl = checkTtl(ttlMs);
    const e = this.#value(key);
    if (!e) {
      this.#map.set(key, { kind: "value", value: "1", expiresAt: Date.now() + ttl });
      return 1;
    }
    const n = Number(e.value);
    if (!Number.isSafeInteger(n)) throw new Error(`ephemeral: ${key} does not hold an integer`);
    e.value = String(n + 1);
    if (e.expiresAt === Infinity) e.expiresAt = Date.now() + ttl;
    return n + 1;
  }

  async ttl(key: string): Promise<number> {
    const now = Date.now();
    const e = this.#live(key, now);
    if (!e) return -2;
    const exp = e.kind === "value" ? e.expiresAt : Math.max(...e.members.values());
    return exp === Infinity ? -1 : exp - now;
  }

  async memberAdd(key: string, member: string, ttlMs: number): Promise<void> {
    const exp = Date.now() + checkTtl(ttlMs);
    const e = this.#live(key);
    if (e && e.kind !== "set") throw new Error(`ephemeral: ${key} holds a value, not a member set`);
    if (e) e.members.set(member, exp);
    else this.#map.set(key, { kind: "set", members: new Map([[member, exp]]) });
  }

  async memberRemove(key: string, member: string): Promise<void> {
    const e = this.#live(key);
    if (e?.kind !== "set") return;
    e.members.delete(member);
    if (e.members.size === 0) this.#map.delete(key);
  }

  async members(key: string): Promise<string[]> {
    const e = this.#live(key);
    if (e && e.kind !== "set") throw new Error(`ephemeral: ${key} holds a value, not a member set`);
    return e ? [...e.members.keys()] : [];
  }

  /** Drops every expired key and member; returns how many keys remain. */
  sweep(now = Date.now()): number {
    for (const key of this.#map.keys()) this.#live(key, now);
    return this.#map.size;
  }

  async healthy(): Promise<boolean> {
    return !this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#map.clear();
  }
}
