import { TOPICS, encodeMessageCreated, encodeStatusEvent } from "@chat4all/events";
import { type MessageDraft, type Receipt, type StoredMessage, conflict, invalid, singleFlight } from "@chat4all/kernel";
import { type MessageItem, toMessageItem } from "@chat4all/pipeline";
import type { GatewayDeps } from "../../deps.ts";
import { createRateLimiter } from "../../http/rate-limit.ts";
import type { createConversationService } from "../conversations/service.ts";
import { validateAttachments } from "../files/service.ts";
import type { SendBody, StatusBody } from "./model.ts";

/**
 * Messages: accept (membership, validation, idempotency, then the durable append), history with
 * each message's status as the caller sees it, receipts, and the per-user inbox.
 */
export function createMessageService(deps: GatewayDeps, conversations: ReturnType<typeof createConversationService>) {
  const limitSends = createRateLimiter(deps.ephemeral, "send", deps.settings.sendRatePerMin);
  // Renders of one conversation at the same moment (every device resuming it) share one receipts read.
  const receiptsOf = singleFlight((conversationId: string) => conversationId, (conversationId: string) => deps.messages.getReceipts(conversationId));

  /** Status of `m` for `callerId`: the sender sees the furthest state every recipient reached. */
  function statusFor(m: StoredMessage, callerId: string, receipts: Receipt[], memberIds: string[]): string {
    if (m.senderId === callerId) {
      const others = memberIds.filter((id) => id !== callerId);
      if (others.length === 0) return "SENT";
      const mark = (id: string) => receipts.find((r) => r.userId === id);
      if (others.every((id) => (mark(id)?.readUpTo ?? 0) >= m.seq)) return "READ";
      if (others.every((id) => (mark(id)?.deliveredUpTo ?? 0) >= m.seq)) return "DELIVERED";
      return "SENT";
    }
    const mine = receipts.find((r) => r.userId === callerId);
    if ((mine?.readUpTo ?? 0) >= m.seq) return "READ";
    if ((mine?.deliveredUpTo ?? 0) >= m.seq) return "DELIVERED";
    return "SENT";
  }

  /** Renders stored messages as API items with the caller's view of their status. */
  async function render(conversationId: string, callerId: string, list: StoredMessage[]): Promise<MessageItem[]> {
    if (list.length === 0) return [];
    const [receipts, members] = await Promise.all([receiptsOf(conversationId), deps.members.members(conversationId)]);
    const ids = members.map((m) => m.userId);
    return list.map((m) => toMessageItem(m, statusFor(m, callerId, receipts, ids)));
  }

  return {
    render,

    /** Accepts a message: resolves once the event is durable. Replays of a key return the first acceptance. */
    async send(callerId: string, b: SendBody, origin: MessageDraft["origin"] = "delivery") {
      await conversations.requireMember(b.conversation_id, callerId);
      await limitSends(callerId);
      if (b.message_type === "file" && !b.attachments) throw invalid("ATTACHMENT_REQUIRED", "a file message needs attachments");
      const files = await validateAttachments(deps, callerId, b.conversation_id, b.message_type, b.attachments);
      b = { ...b, attachments: files.attachments };
      const now = Date.now();
      const owner = `${b.conversation_id}/${callerId}/${now}`;
      const idemKey = `idem:${b.idempotency_key}`;
      if (!(await deps.ephemeral.setIfAbsent(idemKey, owner, (deps.settings.idempotencyTtlSec ?? 900) * 1000))) {
        const first = (await deps.ephemeral.get(idemKey)) ?? owner;
        const [conv, sender, at] = first.split("/");
        if (conv !== b.conversation_id || sender !== callerId)
          throw conflict("IDEMPOTENCY_KEY_REUSED", "this idempotency_key was used for another message");
        // Same request again: append again (harmless: ingest dedups by message id) so that a retry
        // after a failed first append still gets the message accepted.
        await files.attach();
        return this.append(b, callerId, Number(at) || now, origin);
      }
      // The grant comes before the append: a durable message never names a file its readers cannot open.
      await files.attach();
      return this.append(b, callerId, now, origin);
    },

    /** The durable append behind `send`. */
    async append(b: SendBody, senderId: string, createdAt: number, origin: MessageDraft["origin"]) {
      const draft: MessageDraft = {
        messageId: b.idempotency_key,
        conversationId: b.conversation_id,
        senderId,
        type: b.message_type,
        content: b.content,
        attachments: b.attachments ?? null,
        metadata: b.metadata ?? null,
        targetChannels: b.target_channels,
        createdAt,
        origin,
      };
      await deps.events.append(TOPICS.messageCreated, [{ key: draft.conversationId, value: encodeMessageCreated(draft) }]);
      return { status: "queued" as const, message_id: draft.messageId, timestamp: new Date(createdAt).toISOString() };
    },

    async history(callerId: string, conversationId: string, q: { limit: number; before_sequence?: number; after_sequence?: number }) {
      await conversations.requireMember(conversationId, callerId);
      const list = await deps.messages.listMessages(conversationId, {
        limit: q.limit,
        beforeSeq: q.before_sequence,
        afterSeq: q.after_sequence,
        order: "desc",
      });
      return render(conversationId, callerId, list);
    },

    /** Records a receipt (delivered/read up to a seq); the status worker applies it monotonically. */
    async markStatus(callerId: string, b: Pick<StatusBody, "conversation_id" | "sequence_number" | "status"> & { message_id?: string }) {
      await conversations.requireMember(b.conversation_id, callerId);
      const lastSeq = await deps.metadata.getConversation(b.conversation_id).then((c) => c?.lastSeq ?? 0);
      if (b.sequence_number > lastSeq) throw invalid("SEQUENCE_OUT_OF_RANGE", `sequence_number is beyond the last message (${lastSeq})`);
      await deps.events.append(TOPICS.messageStatus, [
        {
          key: b.conversation_id,
          value: encodeStatusEvent({
            conversationId: b.conversation_id,
            userId: callerId,
            status: b.status,
            upToSeq: b.sequence_number,
            messageId: b.message_id ?? null,
            at: Date.now(),
            source: "delivery",
          }),
        },
      ]);
      return { status: "processing" as const, updated_to: b.status };
    },

    async sync(callerId: string, sinceIso: string, limit: number) {
      const list = await deps.messages.listInbox(callerId, Date.parse(sinceIso), limit);
      const out: MessageItem[] = [];
      for (const [conversationId, group] of Map.groupBy(list, (m) => m.conversationId)) {
        if (!(await deps.members.roleOf(conversationId, callerId))) continue;
        out.push(...(await render(conversationId, callerId, group)));
      }
      return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.sequence_number - b.sequence_number);
    },
  };
}
