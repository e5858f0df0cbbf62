/** A TTL in whole milliseconds (rounded up); throws unless it is a positive finite number. */
export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`ephemeral: invalid ttlMs ${ttlMs}`);
  return Math.ceil(ttlMs);
}
