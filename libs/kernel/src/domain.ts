/** Kinds of message content. */
export const MESSAGE_TYPES = ["text", "file", "location"] as const;
/** Kind of message content. */
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** External platforms a user can link an identity on. */
export const EXTERNAL_CHANNELS = ["whatsapp", "instagram"] as const;
/** Every delivery channel: the platform's own clients plus the external ones. */
export const CHANNELS = ["delivery", ...EXTERNAL_CHANNELS] as const;
/** A delivery channel. */
export type Channel = (typeof CHANNELS)[number];
/** What a sender may put in `target_channels`: a channel or `all`. */
export const TARGET_CHANNELS = [...CHANNELS, "all"] as const;
/** A value of `target_channels`. */
export type TargetChannel = (typeof TARGET_CHANNELS)[number];

/** Receipt states, in the only order they may move: SENT → DELIVERED → READ. */
export type DeliveryStatus = "SENT" | "DELIVERED" | "READ";

/** A message as accepted by the gateway, before it has a sequence number. */
export interface MessageDraft {
  messageId: string;
  conversationId: string;
  senderId: string;
  type: MessageType;
  content: string;
  attachments: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  targetChannels: TargetChannel[];
  /** Epoch milliseconds at which the gateway accepted it. */
  createdAt: number;
  /** Where it came from: "delivery" for the platform's clients, or the external channel of an inbound webhook. */
  origin: Channel;
}

/** A message in history: a draft plus its dense per-conversation sequence number. */
export interface StoredMessage extends MessageDraft {
  seq: number;
}

/** Per-member receipt markers in one conversation: delivered/read up to (and including) a seq; 0 = none. */
export interface Receipt {
  conversationId: string;
  userId: string;
  deliveredUpTo: number;
  readUpTo: number;
}
