import type { Ephemeral } from "@chat4all/ephemeral";
import type { ExternalChannel } from "./ids.ts";

/** One outbound delivery as the platform knows it: which message, for whom, in which conversation. */
export interface SentDelivery {
  conversationId: string;
  seq: number;
  messageId: string;
  /** The platform user it was delivered to. */
  recipientId: string;
  /** The provider's id, once the provider accepted the send. */
  providerMessageId?: string;
}

const DEFAULT_TTL_MS = 7 * 24 * 3600_000;

/**
 * What connectors and webhooks share through the Ephemeral port (Redis in the cluster), each key
 * with a TTL (default 7 days):
 * - `connector:<channel>:ref:<client_ref>` → the delivery, written before the send (so a status
 *   webhook that overtakes the send's response still resolves through its `client_ref`);
 * - `connector:<channel>:pmid:<provider message id>` → the delivery, written once the provider
 *   accepted it (statuses, and replies whose `context.id` names it);
 * - `connector:<channel>:last:<external id>` → the conversation this external user last
 *   interacted with (last outbound delivery to them, or last inbound message from them).
 */
export function createDeliveryMap(ephemeral: Ephemeral, opts: { ttlMs?: number } = {}) {
  const ttl = opts.ttlMs ?? DEFAULT_TTL_MS;
  const key = (channel: ExternalChannel, kind: "ref" | "pmid" | "last", id: string) => `connector:${channel}:${kind}:${id}`;
  const read = async (k: string): Promise<SentDelivery | null> => {
    const raw = await ephemeral.get(k);
    if (!raw) return null;
    try {
      const d = JSON.parse(raw) as SentDelivery;
      const ok = typeof d.conversationId === "string" && Number.isSafeInteger(d.seq) && typeof d.messageId === "string" && typeof d.recipientId === "string";
      return ok ? d : null;
    } catch {
      return null;
    }
  };
  return {
    /** Records a delivery about to be sent, under its client_ref. */
    pending: (channel: ExternalChannel, ref: string, d: SentDelivery) => ephemeral.set(key(channel, "ref", ref), JSON.stringify(d), ttl),
    /** Records a delivery the provider accepted: by client_ref and by provider id; moves the recipient's last conversation. */
    async sent(channel: ExternalChannel, ref: string, externalId: string, d: SentDelivery & { providerMessageId: string }) {
      const json = JSON.stringify(d);
      await Promise.all([
        ephemeral.set(key(channel, "ref", ref), json, ttl),
        ephemeral.set(key(channel, "pmid", d.providerMessageId), json, ttl),
        ephemeral.set(key(channel, "last", externalId), d.conversationId, ttl),
      ]);
    },
    /** The delivery sent with this client_ref, or null. */
    byRef: (channel: ExternalChannel, ref: string) => read(key(channel, "ref", ref)),
    /** The delivery the provider knows by this id, or null. */
    byProviderId: (channel: ExternalChannel, providerMessageId: string) => read(key(channel, "pmid", providerMessageId)),
    /** The conversation the external user last interacted with on this channel, or null. */
    lastConversation: (channel: ExternalChannel, externalId: string) => ephemeral.get(key(channel, "last", externalId)),
    /** Moves the external user's last conversation (after an inbound message). */
    touch: (channel: ExternalChannel, externalId: string, conversationId: string) => ephemeral.set(key(channel, "last", externalId), conversationId, ttl),
  };
}

/** The delivery map. */
export type DeliveryMap = ReturnType<typeof createDeliveryMap>;
