/**
 * Bus: low-latency, best-effort fanout between processes (NATS in the cluster).
 *
 * Contract (checked by `contract.ts` against every adapter):
 * - `publish` is fire-and-forget: no durability, no redelivery; a subscriber that is not subscribed
 *   at publish time never sees the message. Messages from one publisher on one subject arrive in
 *   publish order.
 * - Subjects are dot-separated tokens; a subscription may use `*` (exactly one token) and `>`
 *   (one or more trailing tokens), with NATS semantics.
 * - Every subscription receives every matching message (no queue groups), including messages
 *   published by the same Bus instance.
 * - `flush` resolves once everything published before it has been handed to the server (in-process:
 *   delivered to local subscribers).
 */
export interface Bus {
  /** Publishes `data` on `subject`; never throws for a slow or absent subscriber. */
  publish(subject: string, data: Uint8Array): void;
  /** Subscribes; the handler runs once per message, in order, and must not throw. */
  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): Subscription;
  /** Resolves once earlier publishes have left this process. */
  flush(): Promise<void>;
  /** True when connected (for `/ready`). */
  healthy(): boolean;
  /** Drains and closes. */
  close(): Promise<void>;
}

/** A live subscription. */
export interface Subscription {
  unsubscribe(): void;
}

/** Subject helpers: one place that spells every subject. */
export const subjects = {
  /** Deliveries (messages, status updates, presence, typing) for every socket of one user. */
  user: (userId: string) => `deliver.user.${userId}`,
  /** Messages of one conversation, published once for every gateway holding a member's socket. */
  conversation: (conversationId: string) => `deliver.conv.${conversationId}`,
  /** Typing indicators of one conversation. */
  typing: (conversationId: string) => `typing.conv.${conversationId}`,
  /** Membership of a conversation changed: gateways drop their cached membership. */
  membershipChanged: "membership.changed",
} as const;
