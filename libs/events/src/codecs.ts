import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { MessageDraft, StoredMessage } from "@chat4all/kernel";
import {
  ConnectorOutboundSchema,
  MessageCreatedSchema,
  MessageStatusSchema,
  MessageStoredSchema,
  NotificationPushSchema,
  ReceiptStatus,
  UserAccountCreatedSchema,
} from "@chat4all/proto/chat4all/events/v1/events_pb";
import { channels, draftOf, enumMap, id, int, int64, storedOf, toPbMessage } from "./chat-message.ts";
import { isPoisonEventError, PoisonEventError } from "./poison.ts";

/** A member's receipt: delivered/read up to (and including) `upToSeq` (topic chat.message.status.v1). */
export interface StatusEvent {
  conversationId: string;
  userId: string;
  status: "DELIVERED" | "READ";
  upToSeq: number;
  /** The message the receipt was reported for, when known. */
  messageId: string | null;
  /** Epoch ms at which it was reported. */
  at: number;
  /** Who reported it, e.g. "ws", "rest", "webhook:whatsapp". */
  source: string;
}

/** A stored message for a recipient on an external platform (topics connector.<channel>.outbound.v1). */
export interface OutboundEvent {
  message: StoredMessage;
  recipientId: string;
  channel: "whatsapp" | "instagram";
  /** The recipient's identity on that platform. */
  externalId: string;
}

/** A stored message for an offline recipient (topic chat.notification.push.v1). */
export interface PushEvent {
  message: StoredMessage;
  recipientId: string;
}

/** A new account (topic user.account.created.v1). */
export interface AccountCreatedEvent {
  userId: string;
  username: string;
  /** Epoch ms. */
  createdAt: number;
}

const statuses = enumMap<StatusEvent["status"], ReceiptStatus>({
  DELIVERED: ReceiptStatus.DELIVERED,
  READ: ReceiptStatus.READ,
});

function externalChannel(n: number, field: string): OutboundEvent["channel"] {
  const c = channels.fromPb(n, field);
  if (c === "delivery") throw new PoisonEventError(`${field}: not an external channel`);
  return c;
}

function decode<S extends DescMessage, T>(schema: S, bytes: Uint8Array, what: string, map: (m: MessageShape<S>) => T): T {
  let msg: MessageShape<S>;
  try {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`expected Uint8Array, got ${typeof bytes}`);
    msg = fromBinary(schema, bytes);
  } catch (cause) {
    throw new PoisonEventError(`${what}: undecodable bytes (${(cause as Error)?.message ?? cause})`, { cause });
  }
  try {
    return map(msg);
  } catch (err) {
    if (isPoisonEventError(err)) throw new PoisonEventError(`${what}: ${err.reason}`, { cause: err });
    throw new PoisonEventError(`${what}: invalid content (${(err as Error)?.message ?? err})`, { cause: err });
  }
}

/** Builds, then checks with the decoder's own validation, so whatever is encoded decodes. */
function encode<S extends DescMessage>(schema: S, what: string, msg: MessageShape<S>, check: (m: MessageShape<S>) => unknown): Uint8Array {
  try {
    check(msg);
  } catch (err) {
    const reason = isPoisonEventError(err) ? err.reason : String(err);
    throw new Error(`events: refusing to encode an invalid ${what}: ${reason}`, { cause: err });
  }
  return toBinary(schema, msg);
}

/** MessageCreated bytes of a draft; throws (a producer bug) when the draft would not decode. */
export function encodeMessageCreated(d: MessageDraft): Uint8Array {
  const msg = create(MessageCreatedSchema, { message: toPbMessage(d) });
  return encode(MessageCreatedSchema, "MessageCreated", msg, (m) => draftOf(m.message));
}

/** The validated draft of MessageCreated bytes; throws PoisonEventError when undecodable or invalid. */
export function decodeMessageCreated(bytes: Uint8Array): MessageDraft {
  return decode(MessageCreatedSchema, bytes, "MessageCreated", (m) => draftOf(m.message));
}

/** MessageStored bytes of a stored message (seq ≥ 1). */
export function encodeMessageStored(m: StoredMessage): Uint8Array {
  const msg = create(MessageStoredSchema, { message: toPbMessage(m) });
  return encode(MessageStoredSchema, "MessageStored", msg, (x) => storedOf(x.message));
}

/** The validated stored message (seq ≥ 1) of MessageStored bytes; throws PoisonEventError otherwise. */
export function decodeMessageStored(bytes: Uint8Array): StoredMessage {
  return decode(MessageStoredSchema, bytes, "MessageStored", (m) => storedOf(m.message));
}

/** MessageStatus bytes of a receipt event. */
export function encodeStatusEvent(e: StatusEvent): Uint8Array {
  const msg = create(MessageStatusSchema, {
    conversationId: e.conversationId,
    userId: e.userId,
    status: statuses.toPb(e.status),
    upToSeq: int64(e.upToSeq, "upToSeq"),
    messageId: e.messageId ?? undefined,
    atMs: int64(e.at, "at"),
    source: e.source,
  });
  return encode(MessageStatusSchema, "MessageStatus", msg, statusOf);
}

function statusOf(m: MessageShape<typeof MessageStatusSchema>): StatusEvent {
  return {
    conversationId: id(m.conversationId, "conversation_id"),
    userId: id(m.userId, "user_id"),
    status: statuses.fromPb(m.status, "status"),
    upToSeq: int(m.upToSeq, "up_to_seq", 1),
    messageId: m.messageId === undefined ? null : id(m.messageId, "message_id"),
    at: int(m.atMs, "at_ms", 1),
    source: id(m.source, "source"),
  };
}

/** The validated receipt of MessageStatus bytes (known status, up_to_seq ≥ 1, non-empty ids and source). */
export function decodeStatusEvent(bytes: Uint8Array): StatusEvent {
  return decode(MessageStatusSchema, bytes, "MessageStatus", statusOf);
}

/** ConnectorOutbound bytes. */
export function encodeOutbound(e: OutboundEvent): Uint8Array {
  const msg = create(ConnectorOutboundSchema, {
    message: toPbMessage(e.message),
    recipientId: e.recipientId,
    channel: channels.toPb(e.channel),
    externalId: e.externalId,
  });
  return encode(ConnectorOutboundSchema, "ConnectorOutbound", msg, outboundOf);
}

function outboundOf(m: MessageShape<typeof ConnectorOutboundSchema>): OutboundEvent {
  return {
    message: storedOf(m.message),
    recipientId: id(m.recipientId, "recipient_id"),
    channel: externalChannel(m.channel, "channel"),
    externalId: id(m.externalId, "external_id"),
  };
}

/** The validated outbound event (stored message, external channel, non-empty ids) of ConnectorOutbound bytes. */
export function decodeOutbound(bytes: Uint8Array): OutboundEvent {
  return decode(ConnectorOutboundSchema, bytes, "ConnectorOutbound", outboundOf);
}

/** NotificationPush bytes. */
export function encodePush(e: PushEvent): Uint8Array {
  const msg = create(NotificationPushSchema, { message: toPbMessage(e.message), recipientId: e.recipientId });
  return encode(NotificationPushSchema, "NotificationPush", msg, pushOf);
}

function pushOf(m: MessageShape<typeof NotificationPushSchema>): PushEvent {
  return { message: storedOf(m.message), recipientId: id(m.recipientId, "recipient_id") };
}

/** The validated push event (stored message, non-empty recipient) of NotificationPush bytes. */
export function decodePush(bytes: Uint8Array): PushEvent {
  return decode(NotificationPushSchema, bytes, "NotificationPush", pushOf);
}

/** UserAccountCreated bytes. */
export function encodeAccountCreated(e: AccountCreatedEvent): Uint8Array {
  const msg = create(UserAccountCreatedSchema, {
    userId: e.userId,
    username: e.username,
    createdAtMs: int64(e.createdAt, "createdAt"),
  });
  return encode(UserAccountCreatedSchema, "UserAccountCreated", msg, accountOf);
}

function accountOf(m: MessageShape<typeof UserAccountCreatedSchema>): AccountCreatedEvent {
  return {
    userId: id(m.userId, "user_id"),
    username: id(m.username, "username"),
    createdAt: int(m.createdAtMs, "created_at_ms", 1),
  };
}

/** The validated account event (non-empty id and username, created_at_ms > 0) of UserAccountCreated bytes. */
export function decodeAccountCreated(bytes: Uint8Array): AccountCreatedEvent {
  return decode(UserAccountCreatedSchema, bytes, "UserAccountCreated", accountOf);
}
