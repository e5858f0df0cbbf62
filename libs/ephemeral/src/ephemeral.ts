/**
 * Ephemeral: short-lived keyed state with expiry — sessions, presence, rate limits
 * (Redis in the cluster).
 *
 * Contract (checked by `contract.ts` against every adapter):
 * - A key with a TTL disappears once it expires (reads never return an expired value).
 * - `incr` is atomic; the TTL is set when the counter is created and not extended by later
 *   increments (fixed windows).
 * - Members of a set each have their own expiry; `members` returns only unexpired ones, and a set
 *   whose members have all expired reads as empty.
 * - `setIfAbsent` is atomic: of concurrent callers exactly one wins.
 */
export interface Ephemeral {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only if the key does not exist; true when it was set. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Increments and returns the counter; the TTL starts with the first increment. */
  incr(key: string, ttlMs: number): Promise<number>;
  /** Remaining TTL in ms; -1 without expiry; -2 when absent. */
  ttl(key: string): Promise<number>;
  /** Adds (or refreshes) a member with its own expiry. */
  memberAdd(key: string, member: string, ttlMs: number): Promise<void>;
  memberRemove(key: string, member: string): Promise<void>;
  /** Unexpired members. */
  members(key: string): Promise<string[]>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
