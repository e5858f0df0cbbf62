import { type DomainError, httpStatusOf, isDomainError } from "@chat4all/kernel";
import * as v from "valibot";

/** The API's error body. */
export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** Turns a valibot/Elysia validation error message into one readable line. */
export function describeValidation(error: unknown): string {
  const raw = (error as { message?: string })?.message ?? "";
  try {
    const v = JSON.parse(raw) as { on?: string; property?: unknown; message?: string; errors?: { path?: string; message?: string }[] };
    const first = v.errors?.[0];
    const where = first?.path ?? (typeof v.property === "object" && v.property ? (v.property as { key?: string }).key : undefined);
    const what = first?.message ?? v.message ?? "invalid input";
    return `${v.on ?? "input"}${where ? `.${String(where).replace(/^\//, "").replaceAll("/", ".")}` : ""}: ${what}`.slice(0, 300);
  } catch {
    return "invalid input";
  }
}

/**
 * Maps anything thrown in a handler to `{status, body, headers}`: DomainErrors by kind,
 * validation/parse errors to 400, unknown routes to 404, oversized bodies to 413, the rest to 500
 * (logged by the caller; the client only learns an opaque id-less message).
 */
export function toHttpError(code: string | number, error: unknown): { status: number; body: ReturnType<typeof errorBody>; headers?: Record<string, string> } {
  if (isDomainError(error)) {
    const e = error as DomainError;
    const headers = e.retryAfterSec !== undefined ? { "retry-after": String(e.retryAfterSec) } : undefined;
    return { status: httpStatusOf[e.kind], body: errorBody(e.code, e.message), headers };
  }
  if (error instanceof v.ValiError) {
    const issue = error.issues[0] as v.BaseIssue<unknown> | undefined;
    const path = issue?.path?.map((p) => String(p.key)).join(".");
    return { status: 400, body: errorBody("INVALID_REQUEST", `${path ? `${path}: ` : ""}${issue?.message ?? "invalid input"}`.slice(0, 300)) };
  }
  switch (code) {
    case "VALIDATION":
      return { status: 400, body: errorBody("INVALID_REQUEST", describeValidation(error)) };
    case "PARSE":
      return { status: 400, body: errorBody("MALFORMED_BODY", "the request body could not be parsed") };
    case "NOT_FOUND":
      return { status: 404, body: errorBody("NOT_FOUND", "no such route") };
    case "INVALID_COOKIE_SIGNATURE":
      return { status: 400, body: errorBody("INVALID_REQUEST", "invalid cookie") };
  }
  return { status: 500, body: errorBody("INTERNAL", "internal error") };
}
