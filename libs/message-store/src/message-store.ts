import type { Receipt, StoredMessage } from "@chat4all/kernel";

/**
 * MessageStore: history, receipts and per-user inboxes (Cassandra in the cluster).
 *
 * Contract (checked by `contract.ts` against every adapter):
 * - `putMessages` is an idempotent upsert keyed by (conversationId, seq): writing the same message
 *   twice leaves one row. It resolves when every row is durable.
 * - `listMessages` returns messages of one conversation ordered by seq (`desc` newest first, the
 *   default, or `asc`), strictly after `afterSeq` and strictly before `beforeSeq` when given,
 *   at most `limit`. Its cost does not grow with the size of the conversation (history is bucketed
 *   by seq range in the cluster).
 * - Receipts are monotonic per (conversation, user): `advanceReceipt` never moves a marker back;
 *   it returns the markers after the call and whether anything moved. READ up to n implies
 *   DELIVERED up to n.
 * - The inbox holds, per user, the messages addressed to them, by acceptance time; `listInbox`
 *   returns those with `createdAt >= sinceMs`, oldest first, at most `limit`; idempotent per
 *   (user, conversation, seq).
 */
export interface MessageStore {
  /** Ensures the schema exists (migrations); idempotent. */
  init(): Promise<void>;
  putMessages(messages: StoredMessage[]): Promise<void>;
  listMessages(conversationId: string, q: HistoryQuery): Promise<StoredMessage[]>;
  /** One message by its seq, or null. */
  getMessage(conversationId: string, seq: number): Promise<StoredMessage | null>;
  /** Moves a member's delivered or read marker forward to `upToSeq` (never back). */
  advanceReceipt(conversationId: string, userId: string, kind: "delivered" | "read", upToSeq: number): Promise<{ receipt: Receipt; advanced: boolean }>;
  /** Every member's markers in a conversation (members with no receipt are absent). */
  getReceipts(conversationId: string): Promise<Receipt[]>;
  /** Adds messages to recipients' inboxes; idempotent per (user, conversation, seq). */
  appendInbox(entries: InboxEntry[]): Promise<void>;
  /** A user's inbox from `sinceMs` on, oldest first. */
  listInbox(userId: string, sinceMs: number, limit: number): Promise<StoredMessage[]>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** A history page request. */
export interface HistoryQuery {
  limit: number;
  beforeSeq?: number;
  afterSeq?: number;
  order?: "desc" | "asc";
}

/** One inbox row: the message, for the user. */
export interface InboxEntry {
  userId: string;
  message: StoredMessage;
}
