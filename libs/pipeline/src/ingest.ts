import type { EventLog } from "@chat4all/eventlog";
import { TOPICS, decodeMessageCreated, encodeMessageStored } from "@chat4all/events";
import { type Logger, type MessageDraft, type Service, type StoredMessage, isDomainError } from "@chat4all/kernel";
import type { MessageStore } from "@chat4all/message-store";
import type { Sequencer } from "@chat4all/metadata";
import { createConsumerService, forEachLimit, groupBy } from "./consumer.ts";

/**
 * Ingest: `chat.message.created.v1` → one seq allocation per conversation per batch → history →
 * `chat.message.stored.v1`. Redelivery yields the same seqs (allocation is keyed by message id) and
 * the same rows (upsert by conversation and seq). Events for conversations that do not exist go to
 * the dead-letter topic.
 */
export function createIngestService(deps: {
  events: EventLog;
  sequencer: Sequencer;
  messages: MessageStore;
  log: Logger;
  group?: string;
  concurrency?: number;
}): Service {
  return createConsumerService<MessageDraft>({
    name: "ingest",
    events: deps.events,
    group: deps.group ?? "ingest",
    topics: [TOPICS.messageCreated],
    decode: decodeMessageCreated,
    log: deps.log,
    process: async (drafts) => {
      const stored: StoredMessage[] = [];
      const byConversation = groupBy(drafts, (d) => d.value.conversationId);
      await forEachLimit([...byConversation], deps.concurrency ?? 16, async ([conversationId, list]) => {
        let seqs: number[];
        try {
          seqs = await deps.sequencer.allocate(conversationId, list.map((d) => d.value.messageId));
        } catch (err) {
          if (!isDomainError(err) || (err.kind !== "not_found" && err.kind !== "conflict")) throw err;
          if (err.kind === "not_found") {
            for (const d of list) await deps.events.deadLetter(d.record, `conversation ${conversationId} not found`);
            return;
          }
          // A message id already sequenced in another conversation: find it, dead-letter it, keep the rest.
          for (const d of list) {
            try {
              const [seq] = await deps.sequencer.allocate(conversationId, [d.value.messageId]);
              stored.push({ ...d.value, seq: seq as number });
            } catch (e) {
              if (!isDomainError(e) || e.kind !== "conflict") throw e;
              await deps.events.deadLetter(d.record, `message id ${d.value.messageId} belongs to another conversation`);
            }
          }
          return;
        }
        list.forEach((d, i) => stored.push({ ...d.value, seq: seqs[i] as number }));
      });
      if (stored.length === 0) return;
      // Within a conversation, duplicates of one message id (a client retry) share a seq: keep one.
      const unique = [...new Map(stored.map((m) => [`${m.conversationId}/${m.seq}`, m])).values()];
      await deps.messages.putMessages(unique);
      await deps.events.append(
        TOPICS.messageStored,
        unique.map((m) => ({ key: m.conversationId, value: encodeMessageStored(m) })),
      );
    },
  });
}

