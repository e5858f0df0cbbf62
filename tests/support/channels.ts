// Helpers for the external-channel suites: the provider simulators' test hooks over HTTP, and webhook signing.
import { createHmac } from "node:crypto";
import { call, eventually } from "./client.ts";

/** Base URLs of the WhatsApp, Instagram and push simulators. */
export interface SimulatorUrls {
  whatsapp: string;
  instagram: string;
  push: string;
}

/** A phone-number-like external id, unique per call. */
export const phone = () => `+55${String(Date.now()).slice(-6)}${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;

/** What a provider simulator received for `to` (sends with their status webhooks so far). */
export async function sentTo(sim: string, to: string): Promise<any[]> {
  const r = await call(sim, "GET", `/v1/messages?to=${encodeURIComponent(to)}`);
  if (r.status !== 200) throw new Error(`simulator answered ${r.status}`);
  return r.body;
}

/** Waits until the simulator received a message for `to` whose client_ref starts with the platform message id. */
export const waitSent = (sim: string, to: string, messageId: string, timeoutMs = 10_000) =>
  eventually(async () => (await sentTo(sim, to)).find((m) => String(m.client_ref).startsWith(`${messageId}:`)), timeoutMs);

/** Push notifications the push simulator recorded for a user. */
export async function pushesFor(push: string, userId: string): Promise<any[]> {
  return (await call(push, "GET", `/v1/notifications?recipient=${encodeURIComponent(userId)}`)).body;
}

/** Makes the simulator's external user `from` send a text (a reply when `replyTo` is a provider message id). */
export const simulateInbound = (sim: string, body: { from: string; text: string; id?: string; reply_to?: string }) =>
  call(sim, "POST", "/v1/simulate/inbound", { body });

/** `sha256=<hex HMAC-SHA256>` of a raw body, as providers sign webhooks. */
export const sign = (secret: string, raw: string) => `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;

/** A WhatsApp inbound text webhook body (the simulator's shape). */
export const whatsappInbound = (from: string, id: string, text: string, replyTo?: string) => ({
  object: "whatsapp_business_account",
  entry: [
    {
      id: "15550001000",
      changes: [
        {
          field: "messages",
          value: {
            messaging_product: "whatsapp",
            messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text }, ...(replyTo ? { context: { id: replyTo } } : {}) }],
          },
        },
      ],
    },
  ],
});
