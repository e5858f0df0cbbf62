import type { Ephemeral } from "@chat4all/ephemeral";
import type { EventLog } from "@chat4all/eventlog";
import { type OutboundEvent, decodeOutbound, outboundTopic } from "@chat4all/events";
import type { Logger, Service } from "@chat4all/kernel";
import { type Decoded, createConsumerService, forEachLimit, groupBy } from "@chat4all/pipeline";
import { type SentDelivery, createDeliveryMap } from "./delivery-map.ts";
import { type ExternalChannel, clientRef } from "./ids.ts";
import { type ProviderClient, ProviderError, type SendRequest, isTransient } from "./provider-api.ts";
import { retryBounded } from "./retry.ts";

/** Dependencies and tunables of a channel connector. */
export interface ConnectorDeps {
  channel: ExternalChannel;
  events: EventLog;
  provider: ProviderClient;
  ephemeral: Ephemeral;
  log: Logger;
  /** Consumer group (default `connector-<channel>`). */
  group?: string;
  /** Attempts per send before the batch is handed back to the event log (default 5). */
  attempts?: number;
  /** First backoff between attempts, doubled each time (default 200 ms, capped at 5 s). */
  retryBaseMs?: number;
  /** Recipients served in parallel within a batch (default 8); one recipient's messages go in order. */
  concurrency?: number;
  /** Lifetime of the provider-id mappings (default 7 days). */
  mappingTtlMs?: number;
}

/**
 * A channel connector: consumes `connector.<channel>.outbound.v1` and sends each message to the
 * provider over HTTP, one recipient's messages in order.
 * - Idempotent: the send carries `client_ref` = message id + recipient, which the provider
 *   deduplicates; a delivery already known as sent (Ephemeral) is not even attempted again.
 * - Retries transient failures (unreachable, 5xx, 429, 401/403) up to `attempts` times with
 *   backoff; after that the batch fails and the event log redelivers it later (nothing is lost).
 * - Dead-letters poison: undecodable events, events of another channel, and messages the provider
 *   refuses for good (a 4xx about the request).
 * - Maps provider message id → (conversation, seq, message, recipient) and the recipient's external
 *   id → conversation in the Ephemeral port, so webhooks turn statuses and replies into events.
 */
export function createConnectorService(deps: ConnectorDeps): Service {
  const { channel } = deps;
  const log = deps.log.child({ connector: channel });
  const attempts = deps.attempts ?? 5;
  const map = createDeliveryMap(deps.ephemeral, { ttlMs: deps.mappingTtlMs });
  let signal: AbortSignal | undefined;

  async function deliver({ value: e, record }: Decoded<OutboundEvent>) {
    if (e.channel !== channel) {
      await deps.events.deadLetter(record, `outbound event for ${e.channel} on the ${channel} topic`);
      return;
    }
    const ref = clientRef(e.message.messageId, e.recipientId);
    if ((await map.byRef(channel, ref))?.providerMessageId) {
      log.debug("already sent; skipped", { ref });
      return;
    }
    const d: SentDelivery = { conversationId: e.message.conversationId, seq: e.message.seq, messageId: e.message.messageId, recipientId: e.recipientId };
    await map.pending(channel, ref, d);
    let providerMessageId: string;
    try {
      ({ messageId: providerMessageId } = await retryBounded(() => deps.provider.send(sendRequest(e, ref)), {
        attempts,
        baseMs: deps.retryBaseMs ?? 200,
        signal,
        retryable: isTransient,
        onRetry: (err, attempt) => log.warn("provider send failed; retrying", { ref, attempt, err }),
      }));
    } catch (err) {
      if (err instanceof ProviderError && err.permanent) {
        log.warn("provider refused a message; dead-lettered", { ref, status: err.status, err });
        await deps.events.deadLetter(record, `provider refused it: ${err.message}`);
        return;
      }
      throw new Error(`connector ${channel}: send ${ref} failed after ${attempts} attempts`, { cause: err });
    }
    await map.sent(channel, ref, e.externalId, { ...d, providerMessageId });
    log.debug("sent", { ref, providerMessageId });
  }

  const consumer = createConsumerService<OutboundEvent>({
    name: `connector-${channel}`,
    events: deps.events,
    group: deps.group ?? `connector-${channel}`,
    topics: [outboundTopic(channel)],
    decode: decodeOutbound,
    log: deps.log,
    process: async (items) => {
      const byRecipient = [...groupBy(items, (d) => d.value.recipientId).values()];
      await forEachLimit(byRecipient, deps.concurrency ?? 8, async (list) => {
        for (const d of list) await deliver(d);
      });
    },
  });
  return {
    name: consumer.name,
    run(s) {
      signal = s;
      return consumer.run(s);
    },
  };
}

const str = (x: unknown) => (typeof x === "string" && x.length > 0 ? x : undefined);

/** The provider request of an outbound event: a file message as an attachment, anything else as text. */
export function sendRequest(e: OutboundEvent, ref: string): SendRequest {
  const m = e.message;
  if (m.type === "file" && m.attachments) {
    const a = m.attachments;
    return {
      to: e.externalId,
      client_ref: ref,
      attachment: {
        file_key: str(a.file_key),
        url: str(a.url),
        filename: str(a.original_name) ?? str(a.filename),
        mime_type: str(a.content_type) ?? str(a.mime_type),
        caption: str(m.content),
      },
    };
  }
  return { to: e.externalId, text: m.content, client_ref: ref };
}
