import * as v from "valibot";
import { PushNotification } from "./push-api.ts";

/** A notification the push simulator accepted. */
export type RecordedNotification = PushNotification & { id: string; at: string };

/** A running push simulator: a fetch handler plus what it recorded. */
export interface PushSimulator {
  fetch(req: Request): Promise<Response>;
  /** Every kept notification, oldest first (optionally for one recipient). */
  notifications(recipient?: string): RecordedNotification[];
}

const json = (body: unknown, status = 200) => Response.json(body, { status });
const fail = (status: number, code: string, message: string) => json({ error: { code, message } }, status);

/**
 * A stand-in push provider (think FCM/APNs behind one HTTP API): `POST /v1/notifications` (bearer
 * API key) records a PushNotification, deduplicated by (message_id, recipient) → 200 `{id,
 * duplicate}`; `GET /v1/notifications?recipient=` lists what was recorded (test hook, no auth);
 * `GET /health`. Keeps at most `maxKept` notifications (oldest forgotten first; default 10,000).
 */
export function createPushSimulator(opts: { apiKey: string; maxKept?: number }): PushSimulator {
  const maxKept = opts.maxKept ?? 10_000;
  const kept = new Map<string, RecordedNotification>();
  const list = (recipient?: string) => [...kept.values()].filter((n) => !recipient || n.recipient === recipient);
  return {
    notifications: list,
    async fetch(req) {
      const url = new URL(req.url);
      const route = `${req.method} ${url.pathname.replace(/\/+$/, "")}`;
      if (route === "GET /health") return json({ status: "ok" });
      if (route === "GET /v1/notifications") return json(list(url.searchParams.get("recipient") ?? undefined));
      if (route !== "POST /v1/notifications") return fail(404, "NOT_FOUND", "no such route");
      if (req.headers.get("authorization") !== `Bearer ${opts.apiKey}`) return fail(401, "UNAUTHORIZED", "invalid or missing API key");
      const parsed = v.safeParse(PushNotification, await req.json().catch(() => undefined));
      if (!parsed.success) return fail(400, "INVALID_REQUEST", parsed.issues[0].message);
      const key = `${parsed.output.message_id}\n${parsed.output.recipient}`;
      const seen = kept.get(key);
      if (seen) return json({ id: seen.id, duplicate: true });
      const n: RecordedNotification = { ...parsed.output, id: `push.${crypto.randomUUID()}`, at: new Date().toISOString() };
      kept.set(key, n);
      if (kept.size > maxKept) kept.delete(kept.keys().next().value as string);
      return json({ id: n.id, duplicate: false });
    },
  };
}
