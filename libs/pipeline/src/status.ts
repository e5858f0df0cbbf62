import { type Bus, subjects } from "@chat4all/bus";
import type { EventLog } from "@chat4all/eventlog";
import { type StatusEvent, TOPICS, decodeStatusEvent } from "@chat4all/events";
import type { Logger, Service } from "@chat4all/kernel";
import type { MessageStore } from "@chat4all/message-store";
import { createConsumerService, forEachLimit, groupBy } from "./consumer.ts";
import { encodeDelivery } from "./deliveries.ts";
import { statusFrame } from "./frames.ts";
import type { MembershipCache } from "./membership-cache.ts";

/**
 * Status: `chat.message.status.v1` → monotonic receipts (delivered/read up to a seq) in the
 * MessageStore → a `STATUS_UPDATE` frame to the other members' sockets when a marker moved.
 * Redelivered or stale events move nothing and publish nothing.
 *
 * A batch's events are applied in order per (conversation, member) — the receipts that can race —
 * and concurrently across members (up to `concurrency`).
 */
export function createStatusService(deps: {
  events: EventLog;
  bus: Bus;
  messages: MessageStore;
  members: MembershipCache;
  log: Logger;
  group?: string;
  concurrency?: number;
}): Service {
  async function apply(e: StatusEvent) {
    const kind = e.status === "READ" ? "read" : "delivered";
    const { advanced } = await deps.messages.advanceReceipt(e.conversationId, e.userId, kind, e.upToSeq);
    if (!advanced) return;
    const messageId = e.messageId ?? (await deps.messages.getMessage(e.conversationId, e.upToSeq))?.messageId ?? null;
    const frame = statusFrame({ conversationId: e.conversationId, messageId, seq: e.upToSeq, status: e.status, by: e.userId, at: e.at });
    const bytes = encodeDelivery({ kind: "e", conversationId: e.conversationId, seq: e.upToSeq, frame });
    for (const m of await deps.members.members(e.conversationId)) if (m.userId !== e.userId) deps.bus.publish(subjects.user(m.userId), bytes);
  }

  return createConsumerService<StatusEvent>({
    name: "status",
    events: deps.events,
    group: deps.group ?? "status",
    topics: [TOPICS.messageStatus],
    decode: decodeStatusEvent,
    log: deps.log,
    process: async (events) => {
      const byMember = groupBy(events, (d) => `${d.value.conversationId}/${d.value.userId}`);
      await forEachLimit([...byMember.values()], deps.concurrency ?? 32, async (list) => {
        for (const { value } of list) await apply(value);
      });
      await deps.bus.flush();
    },
  });
}
