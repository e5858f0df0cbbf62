import { describe, expect, test } from "bun:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { MessageDraft, StoredMessage } from "@chat4all/kernel";
import {
  type ChatMessage,
  ChatMessageSchema,
  ConnectorOutboundSchema,
  MessageCreatedSchema,
  MessageStatusSchema,
  MessageStoredSchema,
  MessageType,
  NotificationPushSchema,
  Channel,
  ReceiptStatus,
  TargetChannel,
  UserAccountCreatedSchema,
} from "@chat4all/proto/chat4all/events/v1/events_pb";
import {
  decodeAccountCreated,
  decodeMessageCreated,
  decodeMessageStored,
  decodeOutbound,
  decodePush,
  decodeStatusEvent,
  encodeAccountCreated,
  encodeMessageCreated,
  encodeMessageStored,
  encodeOutbound,
  encodePush,
  encodeStatusEvent,
  type StatusEvent,
} from "./codecs.ts";
import { PoisonEventError } from "./poison.ts";

const draft: MessageDraft = {
  messageId: "5b8f7f3e-0d7c-4a51-9d3e-0f0d2f7f9a11",
  conversationId: "c-1",
  senderId: "u-1",
  type: "file",
  content: "see attached",
  attachments: { file_key: "f/1", original_name: "a.png", size: 1234, nested: { ok: true, list: [1, "x", null] } },
  metadata: { client: "web" },
  targetChannels: ["delivery", "whatsapp", "all"],
  createdAt: 1_732_000_000_123,
  origin: "delivery",
};
const stored: StoredMessage = { ...draft, seq: 42 };
const status: StatusEvent = {
  conversationId: "c-1",
  userId: "u-2",
  status: "READ",
  upToSeq: 42,
  messageId: "m-42",
  at: 1_732_000_000_999,
  source: "ws",
};

function pbMessage(over: MessageInitShape<typeof ChatMessageSchema> = {}): ChatMessage {
  return create(ChatMessageSchema, {
    messageId: "m-1",
    conversationId: "c-1",
    senderId: "u-1",
    messageType: MessageType.TEXT,
    content: "hi",
    targetChannels: [TargetChannel.DELIVERY],
    createdAtMs: 1_000n,
    origin: Channel.DELIVERY,
    seq: 1n,
    ...over,
  });
}
const storedBytes = (over: MessageInitShape<typeof ChatMessageSchema>) =>
  toBinary(MessageStoredSchema, create(MessageStoredSchema, { message: pbMessage(over) }));
const createdBytes = (over: MessageInitShape<typeof ChatMessageSchema>) =>
  toBinary(MessageCreatedSchema, create(MessageCreatedSchema, { message: pbMessage(over) }));

function expectPoison(fn: () => unknown, reason?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PoisonEventError);
  if (reason) expect((caught as PoisonEventError).reason).toMatch(reason);
}

const decoders = {
  decodeMessageCreated,
  decodeMessageStored,
  decodeStatusEvent,
  decodeOutbound,
  decodePush,
  decodeAccountCreated,
};
const garbage: Array<[string, Uint8Array]> = [
  ["truncated varint", new Uint8Array([0x08, 0xff, 0xff])],
  ["invalid wire type", new Uint8Array([0x0f, 0x01, 0x02])],
  ["JSON text", new TextEncoder().encode('{"message_id":"m-1"}')],
  ["length past the end", new Uint8Array([0x0a, 0x7f, 0x01])],
  ["empty", new Uint8Array()],
];

describe("event codecs", () => {
  test("events: a draft survives MessageCreated encode/decode unchanged", () => {
    expect(decodeMessageCreated(encodeMessageCreated(draft))).toEqual(draft);
    const plain: MessageDraft = { ...draft, type: "text", attachments: null, metadata: null, targetChannels: ["delivery"], origin: "instagram" };
    expect(decodeMessageCreated(encodeMessageCreated(plain))).toEqual(plain);
  });

  test("events: a stored message survives MessageStored encode/decode with its seq", () => {
    expect(decodeMessageStored(encodeMessageStored(stored))).toEqual(stored);
    const big = { ...stored, seq: Number.MAX_SAFE_INTEGER, type: "location" as const };
    expect(decodeMessageStored(encodeMessageStored(big))).toEqual(big);
  });

  test("events: status, outbound, push and account events survive encode/decode", () => {
    expect(decodeStatusEvent(encodeStatusEvent(status))).toEqual(status);
    const delivered: StatusEvent = { ...status, status: "DELIVERED", messageId: null, source: "webhook:whatsapp" };
    expect(decodeStatusEvent(encodeStatusEvent(delivered))).toEqual(delivered);
    for (const channel of ["whatsapp", "instagram"] as const) {
      const e = { message: stored, recipientId: "u-9", channel, externalId: "+5511999990000" };
      expect(decodeOutbound(encodeOutbound(e))).toEqual(e);
    }
    expect(decodePush(encodePush({ message: stored, recipientId: "u-3" }))).toEqual({ message: stored, recipientId: "u-3" });
    const account = { userId: "u-1", username: "alice", createdAt: 1_732_000_000_000 };
    expect(decodeAccountCreated(encodeAccountCreated(account))).toEqual(account);
  });

  test("events: every decoder turns garbage bytes into PoisonEventError", () => {
    for (const [name, decode] of Object.entries(decoders)) {
      for (const [label, bytes] of garbage) {
        try {
          decode(bytes);
          throw new Error(`${name} accepted ${label}`);
        } catch (err) {
          expect(err).toBeInstanceOf(PoisonEventError);
          expect((err as PoisonEventError).reason.length).toBeGreaterThan(0);
        }
      }
      expectPoison(() => decode("not bytes" as unknown as Uint8Array), /undecodable/);
    }
  });

  // Protobuf has no type tag: a foreign payload is caught only where its fields fail validation.
  test("events: a payload of another event type that fails validation is poison", () => {
    expectPoison(() => decodeStatusEvent(encodeMessageStored(stored)));
    expectPoison(() => decodeMessageStored(encodeStatusEvent(status)));
    expectPoison(() => decodeOutbound(encodePush({ message: stored, recipientId: "u-3" })), /channel|external_id/);
  });

  test("events: messages with missing ids, unknown enums or bad numbers are poison", () => {
    expectPoison(() => decodeMessageCreated(createdBytes({ messageId: "" })), /message_id/);
    expectPoison(() => decodeMessageCreated(createdBytes({ conversationId: "" })), /conversation_id/);
    expectPoison(() => decodeMessageCreated(createdBytes({ senderId: "" })), /sender_id/);
    expectPoison(() => decodeMessageCreated(createdBytes({ messageType: MessageType.UNSPECIFIED })), /message_type/);
    expectPoison(() => decodeMessageCreated(createdBytes({ messageType: 99 as MessageType })), /message_type/);
    expectPoison(() => decodeMessageCreated(createdBytes({ targetChannels: [] })), /target_channels/);
    expectPoison(() => decodeMessageCreated(createdBytes({ targetChannels: [TargetChannel.DELIVERY, 17 as TargetChannel] })), /target_channels/);
    expectPoison(() => decodeMessageCreated(createdBytes({ origin: Channel.UNSPECIFIED })), /origin/);
    expectPoison(() => decodeMessageCreated(createdBytes({ createdAtMs: 0n })), /created_at_ms/);
    expectPoison(() => decodeMessageCreated(createdBytes({ createdAtMs: -5n })), /created_at_ms/);
    expectPoison(() => decodeMessageCreated(toBinary(MessageCreatedSchema, create(MessageCreatedSchema))), /message: missing/);
    expect(decodeMessageCreated(createdBytes({ seq: 0n })).messageId).toBe("m-1");
  });

  test("events: a stored message needs a seq of at least 1 that fits a safe integer", () => {
    expect(decodeMessageStored(storedBytes({ seq: 7n })).seq).toBe(7);
    expectPoison(() => decodeMessageStored(storedBytes({ seq: 0n })), /seq/);
    expectPoison(() => decodeMessageStored(storedBytes({ seq: 2n ** 60n })), /seq/);
  });

  test("events: invalid status, outbound, push and account events are poison", () => {
    const st = (over: object) =>
      toBinary(MessageStatusSchema, create(MessageStatusSchema, {
        conversationId: "c-1", userId: "u-1", status: ReceiptStatus.READ, upToSeq: 3n, atMs: 10n, source: "ws", ...over,
      }));
    expect(decodeStatusEvent(st({})).upToSeq).toBe(3);
    expectPoison(() => decodeStatusEvent(st({ status: ReceiptStatus.UNSPECIFIED })), /status/);
    expectPoison(() => decodeStatusEvent(st({ status: 3 })), /status/);
    expectPoison(() => decodeStatusEvent(st({ upToSeq: 0n })), /up_to_seq/);
    expectPoison(() => decodeStatusEvent(st({ userId: "" })), /user_id/);
    expectPoison(() => decodeStatusEvent(st({ messageId: "" })), /message_id/);
    expectPoison(() => decodeStatusEvent(st({ atMs: 0n })), /at_ms/);
    expectPoison(() => decodeStatusEvent(st({ source: "" })), /source/);

    const out = (over: object) =>
      toBinary(ConnectorOutboundSchema, create(ConnectorOutboundSchema, {
        message: pbMessage(), recipientId: "u-2", channel: Channel.WHATSAPP, externalId: "+55", ...over,
      }));
    expect(decodeOutbound(out({})).channel).toBe("whatsapp");
    expectPoison(() => decodeOutbound(out({ channel: Channel.DELIVERY })), /channel/);
    expectPoison(() => decodeOutbound(out({ channel: 9 })), /channel/);
    expectPoison(() => decodeOutbound(out({ externalId: "" })), /external_id/);
    expectPoison(() => decodeOutbound(out({ message: pbMessage({ seq: 0n }) })), /seq/);

    const push = (over: object) =>
      toBinary(NotificationPushSchema, create(NotificationPushSchema, { message: pbMessage(), recipientId: "u-2", ...over }));
    expect(decodePush(push({})).recipientId).toBe("u-2");
    expectPoison(() => decodePush(push({ recipientId: "" })), /recipient_id/);
    expectPoison(() => decodePush(push({ message: undefined })), /message/);

    const acc = (over: object) =>
      toBinary(UserAccountCreatedSchema, create(UserAccountCreatedSchema, { userId: "u-1", username: "bob", createdAtMs: 5n, ...over }));
    expect(decodeAccountCreated(acc({})).username).toBe("bob");
    expectPoison(() => decodeAccountCreated(acc({ username: "" })), /username/);
    expectPoison(() => decodeAccountCreated(acc({ createdAtMs: 0n })), /created_at_ms/);
  });

  test("events: encoders refuse what the decoders would reject, without PoisonEventError", () => {
    const refuses = (fn: () => unknown) => {
      expect(fn).toThrow();
      try {
        fn();
      } catch (err) {
        expect(err).not.toBeInstanceOf(PoisonEventError);
      }
    };
    refuses(() => encodeMessageStored({ ...stored, seq: 0 }));
    refuses(() => encodeMessageCreated({ ...draft, messageId: "" }));
    refuses(() => encodeMessageCreated({ ...draft, type: "video" as MessageDraft["type"] }));
    refuses(() => encodeMessageCreated({ ...draft, createdAt: 1.5 }));
    refuses(() => encodeStatusEvent({ ...status, status: "SENT" as StatusEvent["status"] }));
    refuses(() => encodeOutbound({ message: stored, recipientId: "u", channel: "delivery" as "whatsapp", externalId: "x" }));
  });
});
