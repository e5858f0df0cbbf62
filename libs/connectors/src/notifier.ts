import type { EventLog } from "@chat4all/eventlog";
import { type PushEvent, TOPICS, decodePush } from "@chat4all/events";
import type { Logger, Service } from "@chat4all/kernel";
import { createConsumerService, forEachLimit } from "@chat4all/pipeline";
import { type PushClient, type PushNotification } from "./push-api.ts";
import { ProviderError, isTransient } from "./provider-api.ts";
import { retryBounded } from "./retry.ts";

/**
 * The notifier: consumes `chat.notification.push.v1` (recipients with no live session) and POSTs
 * one notification per (message, recipient) to the push provider, which deduplicates by that pair,
 * so redelivered events notify nobody twice. Transient failures are retried `attempts` times with
 * backoff, then the batch is handed back to the event log; refused notifications and poison events
 * go to the dead-letter topic.
 */
export function createNotifierService(deps: {
  events: EventLog;
  push: PushClient;
  log: Logger;
  group?: string;
  attempts?: number;
  retryBaseMs?: number;
  concurrency?: number;
}): Service {
  const log = deps.log.child({ service: "notifier" });
  const attempts = deps.attempts ?? 5;
  let signal: AbortSignal | undefined;
  const consumer = createConsumerService<PushEvent>({
    name: "notifier",
    events: deps.events,
    group: deps.group ?? "notifier",
    topics: [TOPICS.notificationPush],
    decode: decodePush,
    log: deps.log,
    process: (items) =>
      forEachLimit(items, deps.concurrency ?? 8, async ({ value, record }) => {
        try {
          await retryBounded(() => deps.push.send(notificationOf(value)), {
            attempts,
            baseMs: deps.retryBaseMs ?? 200,
            signal,
            retryable: isTransient,
            onRetry: (err, attempt) => log.warn("push failed; retrying", { attempt, err }),
          });
        } catch (err) {
          if (!(err instanceof ProviderError && err.permanent)) throw new Error(`notifier: push failed after ${attempts} attempts`, { cause: err });
          log.warn("push provider refused a notification; dead-lettered", { status: err.status, err });
          await deps.events.deadLetter(record, `push provider refused it: ${err.message}`);
        }
      }),
  });
  return {
    name: consumer.name,
    run(s) {
      signal = s;
      return consumer.run(s);
    },
  };
}

/** The notification of a push event: who, which message, and a short preview. */
export function notificationOf(e: PushEvent): PushNotification {
  const m = e.message;
  const name = typeof m.attachments?.original_name === "string" ? m.attachments.original_name : "a file";
  const preview = m.type === "file" ? `📎 ${name}` : m.type === "location" ? "📍 Location" : m.content;
  return {
    recipient: e.recipientId,
    message_id: m.messageId,
    conversation_id: m.conversationId,
    sequence_number: m.seq,
    sender_id: m.senderId,
    title: "New message",
    body: preview.length > 120 ? `${preview.slice(0, 119)}…` : preview,
  };
}
