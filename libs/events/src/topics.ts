import type { TopicSpec } from "@chat4all/eventlog";

/** Kafka topic names of DESIGN.md; each has a `<topic>.dlq` twin created by `EventLog.ensureTopics`. */
export const TOPICS = {
  /** MessageCreated, key conversation_id. */
  messageCreated: "chat.message.created.v1",
  /** MessageStored, key conversation_id. */
  messageStored: "chat.message.stored.v1",
  /** MessageStatus, key conversation_id. */
  messageStatus: "chat.message.status.v1",
  /** ConnectorOutbound for WhatsApp, key recipient_id. */
  whatsappOutbound: "connector.whatsapp.outbound.v1",
  /** ConnectorOutbound for Instagram, key recipient_id. */
  instagramOutbound: "connector.instagram.outbound.v1",
  /** NotificationPush, key recipient_id. */
  notificationPush: "chat.notification.push.v1",
  /** UserAccountCreated, key user_id. */
  accountCreated: "user.account.created.v1",
} as const;

/** One of the topic names in TOPICS. */
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/** The outbound topic of an external channel. */
export function outboundTopic(channel: "whatsapp" | "instagram"): Topic {
  switch (channel) {
    case "whatsapp":
      return TOPICS.whatsappOutbound;
    case "instagram":
      return TOPICS.instagramOutbound;
    default:
      throw new Error(`unknown outbound channel: "${String(channel)}"`);
  }
}

/** The dead-letter twin of a topic (as `EventLog.deadLetter` names it). */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Every topic of TOPICS with `partitions` partitions (a positive integer), for `EventLog.ensureTopics`. */
export function topicSpecs(partitions: number): TopicSpec[] {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`topic partitions must be a positive integer, got ${partitions}`);
  }
  return Object.values(TOPICS).map((name) => ({ name, partitions }));
}
