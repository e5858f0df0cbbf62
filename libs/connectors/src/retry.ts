import { sleep } from "@chat4all/kernel";

/**
 * Calls `fn` up to `attempts` times, sleeping `baseMs·2^n` (capped at `maxMs`, with jitter) between
 * attempts, while `retryable(err)` holds. Rethrows the last error, or the first one that is not
 * retryable; stops early (rethrowing) when `signal` aborts.
 */
export async function retryBounded<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { attempts: number; baseMs: number; maxMs?: number; signal?: AbortSignal; retryable: (err: unknown) => boolean; onRetry?: (err: unknown, attempt: number) => void },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retryable(err) || opts.signal?.aborted) throw err;
      opts.onRetry?.(err, attempt);
      const delay = Math.min(opts.maxMs ?? 5_000, opts.baseMs * 2 ** (attempt - 1));
      await sleep(delay * (0.75 + Math.random() / 4), opts.signal);
    }
  }
}
