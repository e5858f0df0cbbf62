import { createHash } from "node:crypto";
import type { EXTERNAL_CHANNELS } from "@chat4all/kernel";

/** An external platform Chat4All has a connector for. */
export type ExternalChannel = (typeof EXTERNAL_CHANNELS)[number];

/** Namespace of the name-based UUIDs of inbound provider messages (a fixed random UUID). */
const INBOUND_NAMESPACE = "6f1c6f2e-3b0a-4d55-9a63-2f4a8f1d7c19";

/**
 * A name-based UUID (RFC 9562 version 5: SHA-1 of namespace + name): the same inputs always give
 * the same UUID, different inputs practically never collide.
 */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replaceAll("-", ""), "hex");
  if (ns.length !== 16) throw new Error(`uuidV5: namespace is not a UUID: ${namespace}`);
  const h = createHash("sha1").update(ns).update(name, "utf8").digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The platform message id of an inbound provider message: deterministic per (channel, provider id). */
export const inboundMessageId = (channel: ExternalChannel, providerMessageId: string) => uuidV5(INBOUND_NAMESPACE, `${channel}:${providerMessageId}`);

/**
 * The provider `client_ref` of one outbound delivery: the platform message id and the recipient.
 * Providers deduplicate sends by it, so a redelivered outbound event sends nothing new.
 */
export const clientRef = (messageId: string, recipientId: string) => `${messageId}:${recipientId}`;
