// Helpers for this package's tests: a webhook receiver over real HTTP and polling.
import * as v from "valibot";
import { type Listening, listenHttp } from "./http-server.ts";
import { SIGNATURE_HEADER, verifySignature } from "./signature.ts";
import { WebhookPayload } from "./webhook-payload.ts";

/** One webhook request as received: raw body, signature check, parsed payload. */
export interface ReceivedWebhook {
  raw: string;
  signed: boolean;
  payload: WebhookPayload | undefined;
}

/** An HTTP server recording webhooks; `answer` decides each status (default 200). */
export function webhookReceiver(secret: string, answer: (n: number) => number = () => 200) {
  const received: ReceivedWebhook[] = [];
  const server: Listening = listenHttp({
    port: 0,
    async fetch(req) {
      const raw = await req.text();
      const parsed = v.safeParse(WebhookPayload, JSON.parse(raw));
      received.push({ raw, signed: verifySignature(secret, raw, req.headers.get(SIGNATURE_HEADER)), payload: parsed.success ? parsed.output : undefined });
      return Response.json({ ok: true }, { status: answer(received.length) });
    },
  });
  return { url: `${server.url}/webhooks/test`, received, stop: () => server.stop() };
}

/** Polls `fn` until it returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(10);
  }
}

/** A JSON request to a local server. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}
