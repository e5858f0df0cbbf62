import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DomainError, type ErrorKind, isDomainError, unavailable } from "@chat4all/kernel";

/** Error metadata (response header or trailer) carrying the DomainError kind. */
export const ERROR_KIND_HEADER = "chat4all-error-kind";
/** Error metadata carrying the DomainError's stable `code` (e.g. USERNAME_TAKEN). */
export const ERROR_CODE_HEADER = "chat4all-error-code";
/** Error metadata carrying `retryAfterSec` of a rate-limited error. */
export const RETRY_AFTER_HEADER = "retry-after";

/** The Connect code each DomainError kind crosses the wire as. */
export const connectCodeOf: Record<ErrorKind, Code> = {
  invalid: Code.InvalidArgument,
  unauthenticated: Code.Unauthenticated,
  forbidden: Code.PermissionDenied,
  not_found: Code.NotFound,
  conflict: Code.AlreadyExists,
  too_large: Code.ResourceExhausted,
  rate_limited: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
};

const KINDS = new Set<string>(Object.keys(connectCodeOf));

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}

/**
 * The ConnectError a server sends for `err`: a ConnectError as is; a DomainError with the code of
 * its kind and its kind/code (and retry-after) in the error metadata; an abort as Canceled; anything
 * else as Internal, whose message says only "internal error" unless `exposeInternal`.
 */
export function toConnectError(err: unknown, exposeInternal = false): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isDomainError(err)) {
    const metadata: Record<string, string> = { [ERROR_KIND_HEADER]: err.kind, [ERROR_CODE_HEADER]: err.code };
    if (err.retryAfterSec !== undefined) metadata[RETRY_AFTER_HEADER] = String(err.retryAfterSec);
    return new ConnectError(err.message, connectCodeOf[err.kind], metadata, undefined, err);
  }
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) {
    return new ConnectError(err.message, Code.Canceled, undefined, undefined, err);
  }
  return new ConnectError(exposeInternal ? describe(err) : "internal error", Code.Internal, undefined, undefined, err);
}

/**
 * The error a client raises for a failed call `what` (e.g. "metadata rpc GetUser"): a DomainError
 * with the same kind, code and message when the server sent one; `unavailable(unavailableCode)`
 * when the server could not be reached or did not answer in time; otherwise an Error with context.
 */
export function fromConnectError(err: unknown, what: string, unavailableCode = "SERVICE_UNAVAILABLE"): Error {
  if (isDomainError(err)) return err;
  const ce = ConnectError.from(err);
  const kind = ce.metadata.get(ERROR_KIND_HEADER);
  if (kind !== null && KINDS.has(kind)) {
    const retry = Number(ce.metadata.get(RETRY_AFTER_HEADER) ?? Number.NaN);
    return new DomainError(kind as ErrorKind, ce.metadata.get(ERROR_CODE_HEADER) ?? "UNKNOWN", ce.rawMessage, {
      cause: ce,
      retryAfterSec: Number.isFinite(retry) ? retry : undefined,
    });
  }
  if (ce.code === Code.Unavailable || ce.code === Code.DeadlineExceeded) {
    return unavailable(unavailableCode, `${what}: ${ce.rawMessage}`, ce);
  }
  return new Error(`${what}: ${ce.message}`, { cause: ce });
}

/** Options of the server-side error translation. */
export interface ErrorTranslationOptions {
  /** Send messages of non-domain errors to clients (internal services); default false. */
  exposeInternal?: boolean;
  /** Called with every non-domain, non-Connect error a handler raised (for logging). */
  onError?: (err: unknown, procedure: string) => void;
}

function translate(err: unknown, procedure: string, opts: ErrorTranslationOptions): ConnectError {
  if (!(err instanceof ConnectError) && !isDomainError(err)) opts.onError?.(err, procedure);
  return toConnectError(err, opts.exposeInternal);
}

async function* translateStream<T>(
  it: AsyncIterable<T>,
  procedure: string,
  opts: ErrorTranslationOptions,
): AsyncIterable<T> {
  try {
    yield* it;
  } catch (err) {
    throw translate(err, procedure, opts);
  }
}

/** A server interceptor applying `toConnectError` to everything a handler throws, streams included. */
export function createErrorInterceptor(opts: ErrorTranslationOptions = {}): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: translateStream(res.message, procedure, opts) };
    } catch (err) {
      throw translate(err, procedure, opts);
    }
  };
}

/** Wraps every (unary) method of a service implementation so that it throws only ConnectErrors. */
export function withConnectErrors<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  impl: T,
  exposeInternal = true,
): T {
  const out: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(impl)) {
    out[name] = async (...args) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toConnectError(err, exposeInternal);
      }
    };
  }
  return out as T;
}
