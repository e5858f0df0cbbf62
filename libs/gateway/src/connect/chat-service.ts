import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ChatService, MessageSchema, type Message, type SubscribeResponse, SubscribeResponseSchema } from "@chat4all/proto/chat4all/v1/chat_pb";
import { ConnectError, Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { MessageItem } from "@chat4all/pipeline";
import * as v from "valibot";
import type { GatewayDeps } from "../deps.ts";
import { authenticate } from "../http/auth-guard.ts";
import { CreateConversationBody } from "../modules/conversations/model.ts";
import type { createConversationService } from "../modules/conversations/service.ts";
import { SendBody } from "../modules/messages/model.ts";
import type { createMessageService } from "../modules/messages/service.ts";
import type { Hub } from "../realtime/hub.ts";

const Uuid = v.pipe(v.string(), v.uuid("must be a UUID"));
const MAX_QUEUED_EVENTS = 10_000;

/** Messages in API shape → protobuf. */
function toProtoMessage(m: MessageItem & { target_channels?: string[] }): Message {
  return create(MessageSchema, {
    messageId: m.message_id,
    conversationId: m.conversation_id,
    senderId: m.sender_id,
    content: m.content,
    messageType: m.message_type,
    sequenceNumber: BigInt(m.sequence_number),
    createdAt: timestampFromMs(Date.parse(m.created_at)),
    status: m.status,
    attachments: (m.attachments ?? undefined) as JsonObject | undefined,
    metadata: (m.metadata ?? undefined) as JsonObject | undefined,
    targetChannels: m.target_channels ?? [],
  });
}

/** A WebSocket protocol frame (JSON) → a Subscribe event; null for frames streams do not carry. */
function toEvent(frameJson: string): SubscribeResponse | null {
  const f = JSON.parse(frameJson);
  const ts = (iso: string | undefined) => timestampFromMs(iso ? Date.parse(iso) : Date.now());
  switch (f.type) {
    case "MESSAGE":
      return create(SubscribeResponseSchema, { event: { case: "message", value: toProtoMessage(f) } });
    case "STATUS_UPDATE":
      return create(SubscribeResponseSchema, {
        event: {
          case: "statusUpdate",
          value: { conversationId: f.conversation_id, messageId: f.message_id ?? "", sequenceNumber: BigInt(f.sequence_number), status: f.status, readBy: f.read_by, timestamp: ts(f.timestamp) },
        },
      });
    case "TYPING":
      return create(SubscribeResponseSchema, { event: { case: "typing", value: { conversationId: f.conversation_id, userId: f.user_id } } });
    case "PRESENCE":
      return create(SubscribeResponseSchema, { event: { case: "presence", value: { userId: f.user_id, online: f.online } } });
    case "RESUMED":
      return create(SubscribeResponseSchema, {
        event: { case: "resumed", value: { conversationId: f.conversation_id, fromSequence: BigInt(f.from_sequence), toSequence: BigInt(f.to_sequence) } },
      });
    default:
      return null;
  }
}

const parse = <S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> => {
  const r = v.safeParse(schema, input);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".");
  throw new ConnectError(`${path ? `${path}: ` : ""}${issue.message}`, Code.InvalidArgument);
};
const num = (n: bigint | undefined) => (n === undefined ? undefined : Number(n));
const emptyToUndefined = <T>(xs: T[]) => (xs.length > 0 ? xs : undefined);

/**
 * `chat4all.v1.ChatService`: the public operations for browsers over Connect, over the same
 * services as REST and the same hub as WebSocket. Auth: `Authorization: Bearer <access token>`.
 */
export function createChatService(
  deps: GatewayDeps,
  services: { messages: ReturnType<typeof createMessageService>; conversations: ReturnType<typeof createConversationService>; hub: Hub },
): ServiceImpl<typeof ChatService> {
  const caller = (ctx: HandlerContext) => authenticate(deps.signer, ctx.requestHeader.get("authorization"));
  const { messages, conversations, hub } = services;
  const mark = async (ctx: HandlerContext, req: { conversationId: string; sequenceNumber: bigint; messageId?: string }, status: "READ" | "DELIVERED") => {
    const c = await caller(ctx);
    const body = parse(
      v.object({ conversation_id: Uuid, sequence_number: v.pipe(v.number(), v.integer(), v.minValue(1)), message_id: v.optional(Uuid) }),
      { conversation_id: req.conversationId, sequence_number: Number(req.sequenceNumber), message_id: req.messageId },
    );
    const r = await messages.markStatus(c.userId, { ...body, status });
    return { status: r.status, updatedTo: r.updated_to };
  };
  return {
    async sendMessage(req, ctx) {
      const c = await caller(ctx);
      const body = parse(SendBody, {
        idempotency_key: req.idempotencyKey,
        conversation_id: req.conversationId,
        message_type: req.messageType || undefined,
        content: req.content,
        attachments: req.attachments,
        metadata: req.metadata,
        target_channels: emptyToUndefined(req.targetChannels),
      });
      const r = await messages.send(c.userId, body);
      return { status: r.status, messageId: r.message_id, timestamp: timestampFromMs(Date.parse(r.timestamp)) };
    },
    async listMessages(req, ctx) {
      const c = await caller(ctx);
      const conversationId = parse(Uuid, req.conversationId);
      const limit = req.limit === undefined ? 50 : parse(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), req.limit);
      const list = await messages.history(c.userId, conversationId, { limit, before_sequence: num(req.beforeSequence), after_sequence: num(req.afterSequence) });
      return { messages: list.map(toProtoMessage) };
    },
    async createConversation(req, ctx) {
      const c = await caller(ctx);
      const body = parse(CreateConversationBody, { type: req.type, members: req.members, metadata: req.metadata });
      const r = await conversations.create(c.userId, body);
      return { conversationId: r.body.conversation_id, createdAt: timestampFromMs(Date.parse(r.body.created_at)), created: r.created };
    },
    async listConversations(_req, ctx) {
      const c = await caller(ctx);
      const list = await conversations.list(c.userId);
      return {
        conversations: list.map((x) => ({
          conversationId: x.conversation_id,
          type: x.type,
          metadata: x.metadata as JsonObject,
          lastSequenceNumber: BigInt(x.last_sequence_number),
          unreadCount: BigInt(x.unread_count),
        })),
      };
    },
    async getConversation(req, ctx) {
      const c = await caller(ctx);
      const x = await conversations.get(c.userId, parse(Uuid, req.conversationId));
      return {
        conversationId: x.conversation_id,
        type: x.type,
        metadata: x.metadata as JsonObject,
        lastSequenceNumber: BigInt(x.last_sequence_number),
        unreadCount: BigInt(x.unread_count),
        members: x.members.map((m) => ({ userId: m.user_id, role: m.role })),
      };
    },
    markRead: (req, ctx) => mark(ctx, req, "READ"),
    markDelivered: (req, ctx) => mark(ctx, req, "DELIVERED"),
    async *subscribe(req, ctx) {
      const c = await caller(ctx);
      const positions: Record<string, number> = {};
      for (const [conv, seq] of Object.entries(req.positions)) positions[parse(Uuid, conv)] = Number(seq);
      if (Object.keys(positions).length > 1000) throw new ConnectError("at most 1000 positions", Code.InvalidArgument);
      for (const conv of Object.keys(positions)) await conversations.requireMember(conv, c.userId);
      const queue: SubscribeResponse[] = [];
      let wake: (() => void) | undefined;
      let ended: ConnectError | null | undefined;
      const stream = await hub.openStream(
        c.userId,
        positions,
        (frame) => {
          const ev = toEvent(frame);
          if (!ev) return;
          if (queue.length >= MAX_QUEUED_EVENTS) {
            ended = new ConnectError("subscriber too slow; resubscribe with positions", Code.ResourceExhausted);
            stream?.close();
          } else queue.push(ev);
          wake?.();
        },
        () => {
          ended ??= null;
          wake?.();
        },
      );
      const onAbort = () => stream.close();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift() as SubscribeResponse;
          if (ended !== undefined) {
            if (ended) throw ended;
            return;
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        stream.close();
      }
    },
  };
}
