import { type Logger, sleep } from "@chat4all/kernel";
import * as v from "valibot";
import type { ExternalChannel } from "./ids.ts";
import { SendRequest } from "./provider-api.ts";
import { SIGNATURE_HEADER, signBody } from "./signature.ts";
import { ExternalId, ProviderMessageId, type WebhookBody, inboundWebhook, statusWebhook } from "./webhook-payload.ts";

/** Options of a provider simulator. */
export interface ProviderSimulatorOptions {
  channel: ExternalChannel;
  /** The platform's webhook for this channel (a function when it is known only later). */
  webhookUrl: string | (() => string | undefined);
  /** The app secret that signs webhooks (`X-Hub-Signature-256`). */
  webhookSecret: string;
  /** The bearer key `POST /v1/messages` requires. */
  apiKey: string;
  /** After a send, the `delivered` status webhook follows after this long (null: never). */
  deliveredAfterMs: number | null;
  /** After a send, the `read` status webhook follows after this long (null: never). */
  readAfterMs: number | null;
  /** Fraction (0..1) of sends answered 503 at random, to exercise retries. */
  failRate?: number;
  /** Attempts per webhook (5xx, 429 and unreachable are retried with backoff; default 5). */
  webhookAttempts?: number;
  /** The business account / phone number id in webhooks. */
  businessId?: string;
  /** Sends kept for inspection (oldest forgotten first; default 10,000). */
  maxKept?: number;
  log?: Logger;
}

/** A message the simulator accepted, with the status webhooks it sent since. */
export interface SimulatedMessage {
  message_id: string;
  to: string;
  text?: string;
  attachment?: SendRequest["attachment"];
  client_ref: string;
  at: string;
  statuses: { status: string; at: string; webhook_status: number }[];
}

/** A running simulator: a fetch handler plus what it saw. */
export interface ProviderSimulator {
  readonly channel: ExternalChannel;
  fetch(req: Request): Promise<Response>;
  /** Every kept send, oldest first. */
  sent(): SimulatedMessage[];
  /** Cancels pending status webhooks. */
  close(): void;
}

const SimulateInbound = v.object({
  from: ExternalId,
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
  id: v.optional(ProviderMessageId),
  reply_to: v.optional(ProviderMessageId),
  name: v.optional(v.pipe(v.string(), v.maxLength(128))),
});
const SimulateStatus = v.object({ message_id: ProviderMessageId, status: v.picklist(["sent", "delivered", "read", "failed"]) });
const SimulateFail = v.object({
  count: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
  status: v.optional(v.pipe(v.number(), v.integer(), v.minValue(400), v.maxValue(599)), 503),
});

const json = (body: unknown, status = 200) => Response.json(body, { status });
const fail = (status: number, code: string, message: string) => json({ error: { code, message } }, status);
const randomId = (bytes = 18) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");

/**
 * A stand-in for the WhatsApp Cloud API / Instagram Messaging API, just enough for Chat4All:
 * - `POST /v1/messages` (bearer API key) `{to, text | attachment, client_ref}` → 200
 *   `{message_id: "wamid.…"}` (`"mid.…"` on Instagram). Sends are deduplicated by `client_ref`: a
 *   repeat answers the first `message_id`, `duplicate: true`, and triggers no webhook. Then it
 *   POSTs signed status webhooks to the platform: `delivered` after `deliveredAfterMs`, `read`
 *   after `readAfterMs` (shapes in webhook-payload.ts).
 * - Test hooks (no auth; this is a test double): `GET /v1/messages?to=&client_ref=` lists sends
 *   with the statuses sent so far; `POST /v1/simulate/inbound {from, text, id?, reply_to?}` makes
 *   an external user send a message (reply when `reply_to` is a provider message id) and answers
 *   `{message_id, webhook_status}`; `POST /v1/simulate/status {message_id, status}` sends one status
 *   webhook now; `POST /v1/simulate/fail {count, status?}` answers the next `count` sends with
 *   `status` (default 503). `GET /health`.
 * Webhooks are retried (5xx, 429, unreachable) up to `webhookAttempts` times with backoff.
 */
export function createProviderSimulator(o: ProviderSimulatorOptions): ProviderSimulator {
  const log = o.log?.child({ simulator: o.channel });
  const prefix = o.channel === "whatsapp" ? "wamid." : "mid.";
  const businessId = o.businessId ?? (o.channel === "whatsapp" ? "15550001000" : "17841400000000");
  const maxKept = o.maxKept ?? 10_000;
  const byRef = new Map<string, SimulatedMessage>();
  const byId = new Map<string, SimulatedMessage>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let failNext: { count: number; status: number } | undefined;
  let closed = false;

  function webhookUrl(): string | undefined {
    return typeof o.webhookUrl === "function" ? o.webhookUrl() : o.webhookUrl;
  }

  /** Posts one signed webhook; resolves with the final HTTP status (0 when never reached). */
  async function postWebhook(body: WebhookBody): Promise<number> {
    const url = webhookUrl();
    if (!url) {
      log?.warn("webhook target unknown; dropped");
      return 0;
    }
    const raw = JSON.stringify(body);
    const headers = { "content-type": "application/json", [SIGNATURE_HEADER]: signBody(o.webhookSecret, raw) };
    const attempts = o.webhookAttempts ?? 5;
    let last = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(url, { method: "POST", headers, body: raw, signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer().catch(() => undefined);
        last = res.status;
        if (res.status < 500 && res.status !== 429) return last;
      } catch (err) {
        last = 0;
        log?.debug("webhook not delivered", { attempt, err });
      }
      if (closed || attempt === attempts) break;
      await sleep(100 * 2 ** (attempt - 1));
    }
    log?.warn("webhook gave up", { status: last, attempts });
    return last;
  }

  async function sendStatus(m: SimulatedMessage, status: "sent" | "delivered" | "read" | "failed"): Promise<number> {
    const webhookStatus = await postWebhook(
      statusWebhook(o.channel, { businessId, id: m.message_id, status, recipient: m.to, at: Date.now(), clientRef: m.client_ref }),
    );
    m.statuses.push({ status, at: new Date().toISOString(), webhook_status: webhookStatus });
    return webhookStatus;
  }

  function later(ms: number | null, fn: () => Promise<unknown>) {
    if (ms === null || ms < 0 || closed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) fn().catch((err) => log?.warn("status webhook failed", { err }));
    }, ms);
    timers.add(t);
  }

  function keep(m: SimulatedMessage) {
    byRef.set(m.client_ref, m);
    byId.set(m.message_id, m);
    while (byId.size > maxKept) {
      const oldest = byId.values().next().value as SimulatedMessage;
      byId.delete(oldest.message_id);
      byRef.delete(oldest.client_ref);
    }
  }

  async function send(req: Request): Promise<Response> {
    if (req.headers.get("authorization") !== `Bearer ${o.apiKey}`) return fail(401, "UNAUTHORIZED", "invalid or missing API key");
    const body = await req.json().catch(() => undefined);
    const parsed = v.safeParse(SendRequest, body);
    if (!parsed.success) return fail(400, "INVALID_REQUEST", parsed.issues[0].message);
    if (failNext && failNext.count > 0) {
      const status = failNext.status;
      if (--failNext.count === 0) failNext = undefined;
      return fail(status, "SIMULATED_FAILURE", "simulated failure");
    }
    if (o.failRate && Math.random() < o.failRate) return fail(503, "TEMPORARILY_UNAVAILABLE", "simulated outage");
    const b = parsed.output;
    const seen = byRef.get(b.client_ref);
    if (seen) return json({ message_id: seen.message_id, duplicate: true });
    const m: SimulatedMessage = {
      message_id: `${prefix}${randomId()}`,
      to: b.to,
      ...(b.text !== undefined ? { text: b.text } : { attachment: b.attachment }),
      client_ref: b.client_ref,
      at: new Date().toISOString(),
      statuses: [],
    };
    keep(m);
    later(o.deliveredAfterMs, () => sendStatus(m, "delivered"));
    later(o.readAfterMs, () => sendStatus(m, "read"));
    return json({ message_id: m.message_id });
  }

  async function hook<S extends v.GenericSchema>(req: Request, schema: S, fn: (b: v.InferOutput<S>) => Promise<Response>) {
    const parsed = v.safeParse(schema, await req.json().catch(() => undefined));
    if (!parsed.success) return fail(400, "INVALID_REQUEST", parsed.issues[0].message);
    return fn(parsed.output);
  }

  return {
    channel: o.channel,
    sent: () => [...byId.values()],
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    async fetch(req) {
      const url = new URL(req.url);
      const route = `${req.method} ${url.pathname.replace(/\/+$/, "")}`;
      switch (route) {
        case "GET /health":
          return json({ status: "ok", channel: o.channel });
        case "POST /v1/messages":
          return send(req);
        case "GET /v1/messages": {
          const to = url.searchParams.get("to");
          const ref = url.searchParams.get("client_ref");
          return json([...byId.values()].filter((m) => (!to || m.to === to) && (!ref || m.client_ref === ref)));
        }
        case "POST /v1/simulate/inbound":
          return hook(req, SimulateInbound, async (b) => {
            const id = b.id ?? `${prefix}${randomId()}`;
            const webhookStatus = await postWebhook(
              inboundWebhook(o.channel, { businessId, from: b.from, id, text: b.text, at: Date.now(), replyTo: b.reply_to, name: b.name }),
            );
            return json({ message_id: id, webhook_status: webhookStatus });
          });
        case "POST /v1/simulate/status":
          return hook(req, SimulateStatus, async (b) => {
            const m = byId.get(b.message_id);
            if (!m) return fail(404, "NOT_FOUND", "no such message");
            return json({ webhook_status: await sendStatus(m, b.status) });
          });
        case "POST /v1/simulate/fail":
          return hook(req, SimulateFail, async (b) => {
            failNext = { count: b.count, status: b.status };
            return json({ armed: b.count, status: b.status });
          });
      }
      return fail(404, "NOT_FOUND", "no such route");
    },
  };
}
