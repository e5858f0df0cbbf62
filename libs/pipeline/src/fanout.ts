import { type Bus, subjects } from "@chat4all/bus";
import type { EventLog } from "@chat4all/eventlog";
import { TOPICS, decodeMessageStored, encodeOutbound, encodePush, outboundTopic } from "@chat4all/events";
import type { Ephemeral } from "@chat4all/ephemeral";
import type { Logger, Service, StoredMessage } from "@chat4all/kernel";
import type { MessageStore } from "@chat4all/message-store";
import type { MetadataStore } from "@chat4all/metadata";
import { createConsumerService, groupBy } from "./consumer.ts";
import { encodeDelivery } from "./deliveries.ts";
import { messageFrame } from "./frames.ts";
import type { MembershipCache } from "./membership-cache.ts";
import { presenceKey } from "./presence.ts";
import { routeMessage } from "./routing.ts";

/**
 * Fanout: `chat.message.stored.v1` → the conversation's Bus subject (live sockets on every gateway),
 * `connector.<channel>.outbound.v1` per external recipient, `chat.notification.push.v1` for
 * recipients with no live session, and every member's inbox. Idempotent in effect: redelivered
 * events re-publish frames that clients drop by seq/message id, and rewrite the same inbox rows.
 *
 * Per batch: members of every conversation and the identities they need are looked up at once,
 * live frames are published in seq order before anything else is awaited, then inboxes and
 * outbound records are written while the presence of every recipient is read (once per batch,
 * concurrently); push records for the offline ones follow.
 */
export function createFanoutService(deps: {
  events: EventLog;
  bus: Bus;
  metadata: MetadataStore;
  members: MembershipCache;
  messages: MessageStore;
  ephemeral: Ephemeral;
  log: Logger;
  group?: string;
  maxBatch?: number;
}): Service {
  return createConsumerService<StoredMessage>({
    name: "fanout",
    events: deps.events,
    group: deps.group ?? "fanout",
    topics: [TOPICS.messageStored],
    decode: decodeMessageStored,
    log: deps.log,
    maxBatch: deps.maxBatch ?? 2000,
    process: async (decoded) => {
      const groups = [...groupBy(decoded.map((d) => d.value), (m) => m.conversationId)];
      const memberIds = (await Promise.all(groups.map(([c]) => deps.members.members(c)))).map((list) => list.map((m) => m.userId));
      const external = new Set<string>();
      groups.forEach(([, list], i) => {
        if (list.some((m) => m.targetChannels.some((c) => c !== "delivery"))) for (const u of memberIds[i] ?? []) external.add(u);
      });
      const identities = external.size > 0 ? await deps.metadata.identitiesOf([...external]) : [];
      const identitiesOf = groupBy(identities, (idn) => idn.userId);

      const outbound = new Map<string, { key: string; value: Uint8Array }[]>();
      const inbox: { userId: string; message: StoredMessage }[] = [];
      const pushFor: { message: StoredMessage; recipients: string[] }[] = [];
      groups.forEach(([conversationId, list], i) => {
        const members = memberIds[i] ?? [];
        const known = list.some((m) => m.targetChannels.some((c) => c !== "delivery")) ? members.flatMap((u) => identitiesOf.get(u) ?? []) : [];
        for (const m of list) {
          const routes = routeMessage(m, members, known);
          for (const userId of members) inbox.push({ userId, message: m });
          if (routes.delivery) {
            deps.bus.publish(subjects.conversation(conversationId), encodeDelivery({ kind: "m", conversationId, seq: m.seq, frame: messageFrame(m) }));
            if (routes.recipients.length > 0) pushFor.push({ message: m, recipients: routes.recipients });
          }
          for (const e of routes.external) {
            const topic = outboundTopic(e.channel);
            const records = outbound.get(topic) ?? [];
            records.push({ key: e.recipientId, value: encodeOutbound({ message: m, ...e }) });
            outbound.set(topic, records);
          }
        }
      });

      // What does not depend on presence starts now; all of it is awaited before the batch completes.
      const started = [
        deps.messages.appendInbox(inbox),
        deps.bus.flush(),
        ...[...outbound].map(([topic, records]) => deps.events.append(topic, records)),
      ];
      for (const p of started) p.catch(() => {}); // rejections surface through Promise.all below
      // Presence of each recipient once per batch, all reads in flight together.
      const recipients = [...new Set(pushFor.flatMap((p) => p.recipients))];
      const online = new Map<string, boolean>();
      const pushed = Promise.all(recipients.map(async (r) => online.set(r, (await deps.ephemeral.members(presenceKey(r))).length > 0))).then(() => {
        const push: { key: string; value: Uint8Array }[] = [];
        for (const { message, recipients: rs } of pushFor)
          for (const r of rs) if (!online.get(r)) push.push({ key: r, value: encodePush({ message, recipientId: r }) });
        return push.length > 0 ? deps.events.append(TOPICS.notificationPush, push) : undefined;
      });
      await Promise.all([pushed, ...started]);
    },
  });
}
