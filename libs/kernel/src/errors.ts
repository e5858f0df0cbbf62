/**
 * Domain errors carry a stable `code` (the API's error code) and are translated once at the edge
 * (HTTP status, Connect code, WebSocket ERROR frame).
 */
export type ErrorKind =
  | "invalid" // 400
  | "unauthenticated" // 401
  | "forbidden" // 403
  | "not_found" // 404
  | "conflict" // 409
  | "too_large" // 413
  | "rate_limited" // 429
  | "unavailable"; // 503

/** A failure a client caused or can act on; `code` is SNAKE_CASE and stable. */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; retryAfterSec?: number },
  ) {
    super(message, options);
    this.name = "DomainError";
    this.retryAfterSec = options?.retryAfterSec;
  }
  readonly retryAfterSec: number | undefined;
}

/** 400: input failed validation. */
export const invalid = (code: string, message: string) => new DomainError("invalid", code, message);
/** 401: no, bad or expired credentials. */
export const unauthenticated = (code: string, message: string) => new DomainError("unauthenticated", code, message);
/** 403: authenticated but not allowed (e.g. not a member). */
export const forbidden = (code: string, message: string) => new DomainError("forbidden", code, message);
/** 404: no such resource (or not visible to the caller). */
export const notFound = (code: string, message: string) => new DomainError("not_found", code, message);
/** 409: conflicts with existing state. */
export const conflict = (code: string, message: string) => new DomainError("conflict", code, message);
/** 413: body, file or frame above the configured bound. */
export const tooLarge = (code: string, message: string) => new DomainError("too_large", code, message);
/** 429: rate limit hit; `retryAfterSec` feeds the Retry-After header. */
export const rateLimited = (message: string, retryAfterSec: number) =>
  new DomainError("rate_limited", "RATE_LIMITED", message, { retryAfterSec });
/** 503: a dependency is not ready; the client may retry. */
export const unavailable = (code: string, message: string, cause?: unknown) =>
  new DomainError("unavailable", code, message, { cause });

/** HTTP status for each error kind. */
export const httpStatusOf: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

/** True when `e` is a DomainError (works across module copies). */
export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError || (e instanceof Error && e.name === "DomainError" && "code" in e && "kind" in e);
}
