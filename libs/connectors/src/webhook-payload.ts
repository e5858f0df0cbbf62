import * as v from "valibot";
import type { ExternalChannel } from "./ids.ts";

/** The provider's id of a message (`wamid.…`, `mid.…`): printable, no spaces. */
export const ProviderMessageId = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,256}$/, "invalid provider message id"));
/** A user's id on the external platform (the `external_id` of an identity). */
export const ExternalId = v.pipe(v.string(), v.regex(/^[\w.+\-@:]{1,128}$/, "invalid external id"));
/** Unix seconds (string or number) → epoch ms. */
const UnixSeconds = v.pipe(
  v.union([v.pipe(v.string(), v.regex(/^\d{1,12}$/)), v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1e12))], "timestamp must be Unix seconds"),
  v.transform((s) => Number(s) * 1000),
);

/** One inbound user message (`value.messages[]`); only `type: "text"` carries content the platform keeps. */
export const InboundMessage = v.object({
  from: ExternalId,
  id: ProviderMessageId,
  timestamp: v.optional(UnixSeconds),
  type: v.pipe(v.string(), v.maxLength(32)),
  text: v.optional(v.object({ body: v.pipe(v.string(), v.maxLength(4096, "text is limited to 4096 characters")) })),
  context: v.optional(v.object({ from: v.optional(v.pipe(v.string(), v.maxLength(128))), id: v.optional(ProviderMessageId) })),
});
/** A parsed inbound message. */
export type InboundMessage = v.InferOutput<typeof InboundMessage>;

/** One delivery status of an outbound message (`value.statuses[]`). */
export const ProviderStatus = v.object({
  id: ProviderMessageId,
  status: v.pipe(v.string(), v.maxLength(32)),
  timestamp: v.optional(UnixSeconds),
  recipient_id: v.optional(ExternalId),
  client_ref: v.optional(v.pipe(v.string(), v.maxLength(256))),
});
/** A parsed status. */
export type ProviderStatus = v.InferOutput<typeof ProviderStatus>;

/**
 * Webhook payloads of the (simulated) providers, modelled loosely on the WhatsApp Cloud API's
 * `messages` webhook. Instagram uses the same envelope here, with `object: "instagram"` and
 * `messaging_product: "instagram"`. The body is signed: `X-Hub-Signature-256: sha256=<hex
 * HMAC-SHA256(app secret, raw body)>`.
 *
 * ```json
 * { "object": "whatsapp_business_account",
 *   "entry": [{ "id": "<business account id>",
 *     "changes": [{ "field": "messages",
 *       "value": {
 *         "messaging_product": "whatsapp",
 *         "metadata": { "display_phone_number": "15550000000", "phone_number_id": "<id>" },
 *         "contacts": [{ "wa_id": "<external id>", "profile": { "name": "…" } }],
 *         "messages": [{ "from": "<external id>", "id": "wamid.…", "timestamp": "1732000000",
 *                        "type": "text", "text": { "body": "hi" },
 *                        "context": { "from": "<business number>", "id": "<provider id of the message replied to>" } }],
 *         "statuses": [{ "id": "wamid.…", "status": "sent" | "delivered" | "read" | "failed",
 *                        "timestamp": "1732000001", "recipient_id": "<external id>",
 *                        "client_ref": "<the client_ref of the send>" }] } }] }] }
 * ```
 * `messages` and `statuses` are each optional; `context` only on replies; `client_ref` plays the
 * part of WhatsApp's `biz_opaque_callback_data` (echoed from the send). Timestamps are Unix seconds.
 */
export const WebhookPayload = v.object({
  object: v.pipe(v.string(), v.maxLength(64)),
  entry: v.pipe(
    v.array(
      v.object({
        id: v.optional(v.pipe(v.string(), v.maxLength(128))),
        changes: v.pipe(
          v.array(
            v.object({
              field: v.pipe(v.string(), v.maxLength(64)),
              value: v.object({
                messaging_product: v.optional(v.pipe(v.string(), v.maxLength(64))),
                messages: v.optional(v.pipe(v.array(InboundMessage), v.maxLength(100, "at most 100 messages per change"))),
                statuses: v.optional(v.pipe(v.array(ProviderStatus), v.maxLength(100, "at most 100 statuses per change"))),
              }),
            }),
          ),
          v.maxLength(100, "at most 100 changes per entry"),
        ),
      }),
    ),
    v.minLength(1, "entry is empty"),
    v.maxLength(100, "at most 100 entries"),
  ),
});
/** A parsed webhook payload. */
export type WebhookPayload = v.InferOutput<typeof WebhookPayload>;

/** The `object` of each channel's webhooks. */
export const WEBHOOK_OBJECT: Record<ExternalChannel, string> = {
  whatsapp: "whatsapp_business_account",
  instagram: "instagram",
};

/** A webhook body as a provider sends it (input shape). */
export type WebhookBody = v.InferInput<typeof WebhookPayload>;

const envelope = (channel: ExternalChannel, businessId: string, value: Record<string, unknown>): WebhookBody => ({
  object: WEBHOOK_OBJECT[channel],
  entry: [{ id: businessId, changes: [{ field: "messages", value: { messaging_product: channel, ...value } }] }],
});

/** The webhook a provider sends for an inbound text message (a reply when `replyTo` is set). */
export function inboundWebhook(
  channel: ExternalChannel,
  m: { businessId: string; from: string; id: string; text: string; at: number; replyTo?: string; name?: string },
): WebhookBody {
  return envelope(channel, m.businessId, {
    metadata: { display_phone_number: m.businessId, phone_number_id: m.businessId },
    contacts: [{ wa_id: m.from, profile: { name: m.name ?? m.from } }],
    messages: [
      {
        from: m.from,
        id: m.id,
        timestamp: String(Math.floor(m.at / 1000)),
        type: "text",
        text: { body: m.text },
        ...(m.replyTo ? { context: { from: m.businessId, id: m.replyTo } } : {}),
      },
    ],
  });
}

/** The webhook a provider sends when an outbound message changes status. */
export function statusWebhook(
  channel: ExternalChannel,
  s: { businessId: string; id: string; status: "sent" | "delivered" | "read" | "failed"; recipient: string; at: number; clientRef?: string },
): WebhookBody {
  return envelope(channel, s.businessId, {
    metadata: { display_phone_number: s.businessId, phone_number_id: s.businessId },
    statuses: [
      {
        id: s.id,
        status: s.status,
        timestamp: String(Math.floor(s.at / 1000)),
        recipient_id: s.recipient,
        ...(s.clientRef ? { client_ref: s.clientRef } : {}),
      },
    ],
  });
}
