import * as v from "valibot";

/** A webhook body (the providers' shapes; defined once in @chat4all/connectors, next to the simulator that sends them). */
export { WebhookPayload, InboundMessage, ProviderStatus } from "@chat4all/connectors";

/** What a webhook answers (200): how many items of the payload went where. */
export const WebhookOutcome = v.object({
  status: v.literal("ok"),
  /** Inbound messages accepted into a conversation (durable). */
  accepted: v.number(),
  /** Inbound messages whose provider id was accepted before: nothing new was created. */
  duplicates: v.number(),
  /** Statuses turned into receipts (durable). */
  statuses: v.number(),
  /** Items acknowledged but dropped: unknown sender, no conversation, unknown message, unsupported type. */
  dropped: v.number(),
  /** Items with nothing to do (`sent`/`failed` statuses, changes other than `messages`). */
  ignored: v.number(),
});
/** A webhook's answer. */
export type WebhookOutcome = v.InferOutput<typeof WebhookOutcome>;
