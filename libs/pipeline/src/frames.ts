import type { StoredMessage } from "@chat4all/kernel";

/** A history item / MESSAGE frame body exactly as API.md spells it. */
export interface MessageItem {
  message_id: string;
  conversation_id: string;
  sender_id: string;
  content: string;
  message_type: string;
  sequence_number: number;
  created_at: string;
  status: string;
  attachments: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  /** Where the message came from: "delivery" (the platform's clients) or an external channel. */
  origin: string;
}

/** The API shape of a stored message, with the status as seen by the caller. */
export function toMessageItem(m: StoredMessage, status: string): MessageItem {
  return {
    message_id: m.messageId,
    conversation_id: m.conversationId,
    sender_id: m.senderId,
    content: m.content,
    message_type: m.type,
    sequence_number: m.seq,
    created_at: new Date(m.createdAt).toISOString(),
    status,
    attachments: m.attachments,
    metadata: m.metadata,
    origin: m.origin,
  };
}

/** The `MESSAGE` WebSocket frame of a stored message (live deliveries are SENT). */
export function messageFrame(m: StoredMessage): string {
  return JSON.stringify({ type: "MESSAGE", ...toMessageItem(m, "SENT"), target_channels: m.targetChannels });
}

/** The `STATUS_UPDATE` frame sent to senders when a member's receipt moves forward. */
export function statusFrame(s: {
  conversationId: string;
  messageId: string | null;
  seq: number;
  status: "DELIVERED" | "READ";
  by: string;
  at: number;
}): string {
  return JSON.stringify({
    type: "STATUS_UPDATE",
    conversation_id: s.conversationId,
    message_id: s.messageId,
    sequence_number: s.seq,
    status: s.status,
    read_by: s.by,
    timestamp: new Date(s.at).toISOString(),
  });
}
