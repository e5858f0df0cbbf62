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
}): Service {
  return createConsumerService<StoredMessage>({
    name: "fanout",
    events: deps.events,
    group: deps.group ?? "fanout",
    topics: [TOPICS.messageStored],
    decode: decodeMessageStored,
    log: deps.log,
    process: async (decoded) => {
      const messages = decoded.map((d) => d.value);
      const outbound = new Map<string, { key: string; value: Uint8Array }[]>();
      const push: { key: string; value: Uint8Array }[] = [];
      const inbox: { userId: string; message: StoredMessage }[] = [];
      const online = new Map<string, Promise<boolean>>();
      const isOnline = (userId: string) => {
        let p = online.get(userId);
        if (!p) online.set(userId, (p = deps.ephemeral.members(presenceKey(userId)).then((m) => m.length > 0)));
        return p;
      };
      for (const [conversationId, list] of groupBy(messages, (m) => m.conversationId)) {
        const members = (await deps.members.members(conversationId)).map((m) => m.userId);
        const needsIdentities = list.some((m) => m.targetChannels.some((c) => c !== "delivery"));
        const identities = needsIdentities ? await deps.metadata.identitiesOf(members) : [];
        for (const m of list) {
          const routes = routeMessage(m, members, identities);
          for (const userId of members) inbox.push({ userId, message: m });
          if (routes.delivery) {
            deps.bus.publish(
              subjects.conversation(conversationId),
              encodeDelivery({ kind: "m", conversationId, seq: m.seq, frame: messageFrame(m) }),
            );
            for (const r of routes.recipients)
              if (!(await isOnline(r))) push.push({ key: r, value: encodePush({ message: m, recipientId: r }) });
          }
          for (const e of routes.external) {
            const topic = outboundTopic(e.channel);
            const list = outbound.get(topic) ?? [];
            list.push({ key: e.recipientId, value: encodeOutbound({ message: m, ...e }) });
            outbound.set(topic, list);
          }
        }
      }
      await Promise.all([
        deps.messages.appendInbox(inbox),
        push.length > 0 ? deps.events.append(TOPICS.notificationPush, push) : undefined,
        ...[...outbound].map(([topic, records]) => deps.events.append(topic, records)),
      ]);
      await deps.bus.flush();
    },
  });
}
