import {
  type ExternalChannel,
  type InboundMessage,
  type ProviderStatus,
  WEBHOOK_OBJECT,
  WebhookPayload,
  createDeliveryMap,
  inboundMessageId,
  verifySignature,
} from "@chat4all/connectors";
import { type StatusEvent, TOPICS, encodeStatusEvent } from "@chat4all/events";
import { invalid, isDomainError, unauthenticated } from "@chat4all/kernel";
import * as v from "valibot";
import type { GatewayDeps } from "../../deps.ts";
import type { createMessageService } from "../messages/service.ts";
import type { WebhookOutcome } from "./model.ts";

/** What the webhook service needs from the gateway. */
export type WebhookDeps = Pick<GatewayDeps, "settings" | "metadata" | "members" | "events" | "ephemeral" | "log">;
/** The message intake inbound messages go through (the same as `POST /v1/messages`). */
export type MessageIntake = Pick<ReturnType<typeof createMessageService>, "send">;

const DONE_TTL_MS = 7 * 24 * 3600_000;
const RECEIPTS = { delivered: "DELIVERED", read: "READ" } as const;

/**
 * Provider webhooks → platform events.
 *
 * - Authenticity: the `X-Hub-Signature-256` HMAC of the raw body under the channel's secret, checked
 *   before anything is parsed; missing, malformed or wrong → 401 `INVALID_SIGNATURE`, nothing written.
 * - Inbound messages. The sender is the platform user who linked `from` as their identity on the
 *   channel. The conversation is (1) the one of the outbound message the user replied to
 *   (`context.id` = a provider message id the connector recorded for that same user), else (2) the
 *   conversation this external user last interacted with on the channel (the last outbound delivery
 *   to them or inbound message from them) — where the sender must still be a member. A message from
 *   an unlinked external id, or with no conversation to go to, is acknowledged (200) and dropped
 *   with a log line and a count. Accepted messages go through the normal intake with origin = the
 *   channel, target `delivery`, and message id = a UUID derived from (channel, provider message id):
 *   a repeated provider id creates nothing new.
 * - Statuses: `delivered`/`read` of a message the connector sent become `chat.message.status.v1`
 *   (DELIVERED/READ up to its seq, for the recipient user); `sent`/`failed` are ignored.
 * Answers 200 only once everything accepted is durable, so a provider that gets anything else retries.
 */
export function createWebhookService(deps: WebhookDeps, messages: MessageIntake) {
  const log = deps.log.child({ module: "webhooks" });
  const map = createDeliveryMap(deps.ephemeral);

  /** Throws 401 INVALID_SIGNATURE unless `header` signs `raw` with the channel's secret. */
  function verify(channel: ExternalChannel, raw: string, header: string | null | undefined) {
    const secret = deps.settings.webhookSecrets?.[channel];
    if (!secret || !verifySignature(secret, raw, header)) throw unauthenticated("INVALID_SIGNATURE", "missing or invalid X-Hub-Signature-256");
  }

  /** The validated payload of a raw body; throws 400 MALFORMED_BODY / INVALID_REQUEST / WRONG_CHANNEL. */
  function parse(channel: ExternalChannel, raw: string): WebhookPayload {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw invalid("MALFORMED_BODY", "the request body is not JSON");
    }
    const r = v.safeParse(WebhookPayload, json);
    if (!r.success) {
      const issue = r.issues[0];
      const path = issue.path?.map((p) => String(p.key)).join(".");
      throw invalid("INVALID_REQUEST", `${path ? `${path}: ` : ""}${issue.message}`.slice(0, 300));
    }
    if (r.output.object !== WEBHOOK_OBJECT[channel]) throw invalid("WRONG_CHANNEL", `a ${channel} webhook has object "${WEBHOOK_OBJECT[channel]}"`);
    return r.output;
  }

  /** The conversation of an inbound message from `userId` (see the rule above), or null. */
  async function route(channel: ExternalChannel, userId: string, m: InboundMessage): Promise<string | null> {
    const candidates: string[] = [];
    if (m.context?.id) {
      const replied = await map.byProviderId(channel, m.context.id);
      if (replied?.recipientId === userId) candidates.push(replied.conversationId);
    }
    const last = await map.lastConversation(channel, m.from);
    if (last) candidates.push(last);
    for (const c of candidates) if (await deps.members.roleOf(c, userId)) return c;
    return null;
  }

  async function inbound(channel: ExternalChannel, m: InboundMessage, out: WebhookOutcome) {
    const drop = (reason: string) => {
      out.dropped++;
      log.info("inbound message dropped", { channel, reason, providerMessageId: m.id });
    };
    if (m.type !== "text" || !m.text || m.text.body.length === 0) return drop(`unsupported message type "${m.type}"`);
    const userId = await deps.metadata.findUserByIdentity(channel, m.from);
    if (!userId) return drop("no user linked this external id");
    const doneKey = `webhook:${channel}:done:${m.id}`;
    if (await deps.ephemeral.get(doneKey)) {
      out.duplicates++;
      return;
    }
    const conversationId = await route(channel, userId, m);
    if (!conversationId) return drop("no conversation to route it to");
    const body = {
      idempotency_key: inboundMessageId(channel, m.id),
      conversation_id: conversationId,
      message_type: "text" as const,
      content: m.text.body,
      attachments: null,
      metadata: { origin: channel, provider_message_id: m.id, ...(m.context?.id ? { reply_to: m.context.id } : {}) },
      target_channels: ["delivery" as const],
    };
    try {
      await messages.send(userId, body, channel);
    } catch (err) {
      // The same provider id was accepted before (into another conversation, as routing moved since).
      if (isDomainError(err) && err.code === "IDEMPOTENCY_KEY_REUSED") {
        out.duplicates++;
        return;
      }
      throw err;
    }
    await Promise.all([deps.ephemeral.set(doneKey, conversationId, DONE_TTL_MS), map.touch(channel, m.from, conversationId)]);
    out.accepted++;
  }

  async function receipt(channel: ExternalChannel, s: ProviderStatus, out: WebhookOutcome): Promise<StatusEvent | null> {
    const status = RECEIPTS[s.status as keyof typeof RECEIPTS];
    if (!status) {
      out.ignored++;
      if (s.status === "failed") log.warn("provider reports a failed delivery", { channel, providerMessageId: s.id });
      return null;
    }
    let d = await map.byProviderId(channel, s.id);
    if (!d && s.client_ref) {
      const byRef = await map.byRef(channel, s.client_ref);
      if (byRef && (byRef.providerMessageId === undefined || byRef.providerMessageId === s.id)) d = byRef;
    }
    if (!d || !(await deps.members.roleOf(d.conversationId, d.recipientId))) {
      out.dropped++;
      log.info("status dropped", { channel, reason: d ? "recipient left the conversation" : "unknown message", providerMessageId: s.id });
      return null;
    }
    out.statuses++;
    return {
      conversationId: d.conversationId,
      userId: d.recipientId,
      status,
      upToSeq: d.seq,
      messageId: d.messageId,
      at: s.timestamp && s.timestamp > 0 ? s.timestamp : Date.now(),
      source: `webhook:${channel}`,
    };
  }

  /** Handles a validated payload: inbound messages in order, then every status in one append. */
  async function handle(channel: ExternalChannel, payload: WebhookPayload): Promise<WebhookOutcome> {
    const out: WebhookOutcome = { status: "ok", accepted: 0, duplicates: 0, statuses: 0, dropped: 0, ignored: 0 };
    const receipts: StatusEvent[] = [];
    for (const entry of payload.entry) {
      for (const change of entry.changes) {
        if (change.field !== "messages") {
          out.ignored++;
          continue;
        }
        for (const m of change.value.messages ?? []) await inbound(channel, m, out);
        for (const s of change.value.statuses ?? []) {
          const e = await receipt(channel, s, out);
          if (e) receipts.push(e);
        }
      }
    }
    if (receipts.length > 0)
      await deps.events.append(TOPICS.messageStatus, receipts.map((e) => ({ key: e.conversationId, value: encodeStatusEvent(e) })));
    if (out.dropped > 0) log.info("webhook handled", { channel, ...out });
    return out;
  }

  return {
    verify,
    parse,
    handle,
    /** Verifies, parses and handles one webhook request. */
    async receive(channel: ExternalChannel, raw: string, signature: string | null | undefined): Promise<WebhookOutcome> {
      verify(channel, raw, signature);
      return handle(channel, parse(channel, raw));
    },
  };
}

/** The webhook service. */
export type WebhookService = ReturnType<typeof createWebhookService>;
