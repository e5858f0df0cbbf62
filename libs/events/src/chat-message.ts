// Mapping between the domain message (@chat4all/kernel) and the protobuf ChatMessage, with the
// validation every decoder applies. Internal to @chat4all/events.
import { create, type JsonObject } from "@bufbuild/protobuf";
import type { Channel, MessageDraft, MessageType, StoredMessage, TargetChannel } from "@chat4all/kernel";
import {
  type ChatMessage,
  ChatMessageSchema,
  Channel as PbChannel,
  MessageType as PbMessageType,
  TargetChannel as PbTargetChannel,
} from "@chat4all/proto/chat4all/events/v1/events_pb";
import { PoisonEventError } from "./poison.ts";

/** A two-way mapping between domain strings and protobuf enum numbers (0 = unspecified never maps). */
export function enumMap<D extends string, P extends number>(pairs: Record<D, P>) {
  const back = new Map<number, D>();
  for (const [d, p] of Object.entries(pairs) as Array<[D, P]>) back.set(p, d);
  return {
    /** The protobuf value, or 0 (unspecified) for an unknown domain value. */
    toPb: (d: D): P => (Object.hasOwn(pairs, d) ? pairs[d] : 0) as P,
    /** The domain value; throws PoisonEventError for 0 or an unknown number. */
    fromPb: (p: number, field: string): D => {
      const d = back.get(p);
      if (d === undefined) throw new PoisonEventError(`${field}: unknown value ${p}`);
      return d;
    },
  };
}

const messageTypes = enumMap<MessageType, PbMessageType>({
  text: PbMessageType.TEXT,
  file: PbMessageType.FILE,
  location: PbMessageType.LOCATION,
});
/** Channel (origin, outbound channel) mapping. */
export const channels = enumMap<Channel, PbChannel>({
  delivery: PbChannel.DELIVERY,
  whatsapp: PbChannel.WHATSAPP,
  instagram: PbChannel.INSTAGRAM,
});
const targetChannels = enumMap<TargetChannel, PbTargetChannel>({
  delivery: PbTargetChannel.DELIVERY,
  whatsapp: PbTargetChannel.WHATSAPP,
  instagram: PbTargetChannel.INSTAGRAM,
  all: PbTargetChannel.ALL,
});

/** Throws PoisonEventError unless `v` is a non-empty string. */
export function id(v: string, field: string): string {
  if (typeof v !== "string" || v.length === 0) throw new PoisonEventError(`${field}: missing`);
  return v;
}

/** A 64-bit protobuf integer as a number; throws PoisonEventError unless it is a safe integer ≥ `min`. */
export function int(v: bigint, field: string, min: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new PoisonEventError(`${field}: ${v} is not an integer ≥ ${min}`);
  return n;
}

/** A number as a 64-bit protobuf integer; throws (a producer bug, not poison) unless it is a safe integer. */
export function int64(n: number, field: string): bigint {
  if (!Number.isSafeInteger(n)) throw new TypeError(`events: ${field} must be a safe integer, got ${n}`);
  return BigInt(n);
}

/** The protobuf ChatMessage of a draft (`seq` 0) or a stored message. */
export function toPbMessage(m: MessageDraft | StoredMessage): ChatMessage {
  return create(ChatMessageSchema, {
    messageId: m.messageId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    messageType: messageTypes.toPb(m.type),
    content: m.content,
    attachments: (m.attachments ?? undefined) as JsonObject | undefined,
    metadata: (m.metadata ?? undefined) as JsonObject | undefined,
    targetChannels: m.targetChannels.map((t) => targetChannels.toPb(t)),
    createdAtMs: int64(m.createdAt, "createdAt"),
    origin: channels.toPb(m.origin),
    seq: "seq" in m ? int64(m.seq, "seq") : 0n,
  });
}

/**
 * The validated draft of a protobuf ChatMessage: non-empty ids, known type, origin and target
 * channels (at least one), created_at_ms > 0. Throws PoisonEventError otherwise.
 */
export function draftOf(m: ChatMessage | undefined, field = "message"): MessageDraft {
  if (m === undefined) throw new PoisonEventError(`${field}: missing`);
  if (m.targetChannels.length === 0) throw new PoisonEventError(`${field}.target_channels: empty`);
  return {
    messageId: id(m.messageId, `${field}.message_id`),
    conversationId: id(m.conversationId, `${field}.conversation_id`),
    senderId: id(m.senderId, `${field}.sender_id`),
    type: messageTypes.fromPb(m.messageType, `${field}.message_type`),
    content: m.content,
    attachments: m.attachments ?? null,
    metadata: m.metadata ?? null,
    targetChannels: m.targetChannels.map((t) => targetChannels.fromPb(t, `${field}.target_channels`)),
    createdAt: int(m.createdAtMs, `${field}.created_at_ms`, 1),
    origin: channels.fromPb(m.origin, `${field}.origin`),
  };
}

/** The validated stored message of a protobuf ChatMessage: a valid draft with seq ≥ 1. */
export function storedOf(m: ChatMessage | undefined, field = "message"): StoredMessage {
  const draft = draftOf(m, field);
  return { ...draft, seq: int(m!.seq, `${field}.seq`, 1) };
}
