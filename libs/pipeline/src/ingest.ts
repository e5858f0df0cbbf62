import type { EventLog } from "@chat4all/eventlog";
import { TOPICS, decodeMessageCreated, encodeMessageStored } from "@chat4all/events";
import { type DomainError, type Logger, type MessageDraft, type Service, type StoredMessage, isDomainError } from "@chat4all/kernel";
import type { MessageStore } from "@chat4all/message-store";
import type { Sequencer } from "@chat4all/metadata";
import { type Decoded, createConsumerService, groupBy } from "./consumer.ts";

/**
 * Ingest: `chat.message.created.v1` → ONE seq allocation per batch (`allocateMany`: every
 * conversation of the batch in one round trip and one transaction) → history → `chat.message.stored.v1`.
 * Redelivery yields the same seqs (allocation is keyed by message id) and the same rows (upsert by
 * conversation and seq). Events for conversations that do not exist go to the dead-letter topic; an
 * id already sequenced in another conversation is dead-lettered alone, the rest of its conversation kept.
 */
export function createIngestService(deps: {
  events: EventLog;
  sequencer: Sequencer;
  messages: MessageStore;
  log: Logger;
  group?: string;
  maxBatch?: number;
}): Service {
  /** What a refused conversation still yields: nothing (not found) or every id but the foreign ones. */
  async function refused(conversationId: string, list: Decoded<MessageDraft>[], err: DomainError): Promise<StoredMessage[]> {
    if (err.kind === "not_found") {
      for (const d of list) await deps.events.deadLetter(d.record, `conversation ${conversationId} not found`);
      return [];
    }
    if (err.kind !== "conflict") throw err;
    // A message id already sequenced in another conversation: find it, dead-letter it, keep the rest.
    const stored: StoredMessage[] = [];
    for (const d of list) {
      try {
        const [seq] = await deps.sequencer.allocate(conversationId, [d.value.messageId]);
        stored.push({ ...d.value, seq: seq as number });
      } catch (e) {
        if (!isDomainError(e) || e.kind !== "conflict") throw e;
        await deps.events.deadLetter(d.record, `message id ${d.value.messageId} belongs to another conversation`);
      }
    }
    return stored;
  }

  return createConsumerService<MessageDraft>({
    name: "ingest",
    events: deps.events,
    group: deps.group ?? "ingest",
    topics: [TOPICS.messageCreated],
    decode: decodeMessageCreated,
    log: deps.log,
    maxBatch: deps.maxBatch ?? 2000,
    process: async (drafts) => {
      const groups = [...groupBy(drafts, (d) => d.value.conversationId)];
      const results = await deps.sequencer.allocateMany(
        groups.map(([conversationId, list]) => ({ conversationId, messageIds: list.map((d) => d.value.messageId) })),
      );
      const stored: StoredMessage[] = [];
      for (const [i, [conversationId, list]] of groups.entries()) {
        const r = results[i];
        if (!r) throw new Error(`ingest: no allocation for conversation ${conversationId}`);
        if (r.error) stored.push(...(await refused(conversationId, list, r.error)));
        else list.forEach((d, j) => stored.push({ ...d.value, seq: r.seqs[j] as number }));
      }
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
