/** A long-running unit of work (a consumer, a server). `run` resolves when `signal` aborts and it has drained. */
export interface Service {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * Runs services together until SIGINT/SIGTERM or the first failure; on either, aborts all of them,
 * waits for them to drain (bounded by `drainMs`), and resolves with the process exit code.
 */
export async function runServices(
  services: Service[],
  opts: { log?: (msg: string, extra?: Record<string, unknown>) => void; drainMs?: number; signals?: boolean } = {},
): Promise<number> {
  const log = opts.log ?? ((m, e) => console.log(JSON.stringify({ level: "info", msg: m, ...e })));
  const controller = new AbortController();
  let exitCode = 0;
  const onSignal = (sig: string) => () => {
    log("shutdown requested", { signal: sig });
    controller.abort(new Error(sig));
  };
  const handlers: Array<[NodeJS.Signals, () => void]> =
    opts.signals === false ? [] : [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]];
  for (const [s, h] of handlers) process.on(s, h);
  const runs = services.map(async (svc) => {
    try {
      await svc.run(controller.signal);
      if (!controller.signal.aborted) {
        log("service stopped on its own", { service: svc.name });
        controller.abort(new Error(`${svc.name} stopped`));
      }
    } catch (err) {
      if (!controller.signal.aborted) {
        exitCode = 1;
        log("service failed", { service: svc.name, error: String(err), cause: String((err as Error)?.cause ?? "") });
        controller.abort(err);
      }
    }
  });
  await new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const drainMs = opts.drainMs ?? 10_000;
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), drainMs).unref?.());
  if ((await Promise.race([Promise.all(runs), timeout])) === "timeout") {
    log("drain timed out", { drainMs });
    exitCode = exitCode || 1;
  }
  for (const [s, h] of handlers) process.off(s, h);
  return exitCode;
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Retries `fn` with capped exponential backoff until it succeeds or `signal` aborts. */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal; baseMs?: number; maxMs?: number; onError?: (err: unknown, attempt: number) => void } = {},
): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      attempt++;
      if (opts.signal?.aborted) throw new Error(`${what}: aborted`, { cause: err });
      opts.onError?.(err, attempt);
      const delay = Math.min(opts.maxMs ?? 5_000, (opts.baseMs ?? 100) * 2 ** Math.min(attempt, 10));
      await sleep(delay * (0.5 + Math.random() / 2), opts.signal);
    }
  }
}

/** Runs at most `max` of the given tasks at once; the others wait in arrival order. */
export function createLimiter(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function limit<T>(task: () => Promise<T>): Promise<T> {
    if (active >= max) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Shares one in-flight call per key: callers asking for a key whose call is still running get that
 * call's promise instead of starting another (a reconnect storm reads each conversation once, not
 * once per socket). Nothing is kept once the call settles, so no result outlives its read.
 */
export function singleFlight<A extends unknown[], V>(keyOf: (...args: A) => string, fn: (...args: A) => Promise<V>): (...args: A) => Promise<V> {
  const inflight = new Map<string, Promise<V>>();
  return (...args) => {
    const key = keyOf(...args);
    const running = inflight.get(key);
    if (running) return running;
    const p = fn(...args).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  };
}
