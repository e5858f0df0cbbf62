import type { StoredMessage } from "@chat4all/kernel";
import type { types } from "cassandra-driver";

/** A bigint/int column (Long, number or null) as a JS number; null → 0. */
export function num(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return (v as types.Long).toNumber();
}

/** Bind values of a `messages` row after (conversation_id, bucket), in MSG_COLS order. */
export function messageParams(m: StoredMessage): unknown[] {
  return [
    m.seq,
    m.messageId,
    m.senderId,
    m.type,
    m.content,
    m.attachments === null ? null : JSON.stringify(m.attachments),
    m.metadata === null ? null : JSON.stringify(m.metadata),
    m.targetChannels,
    new Date(m.createdAt),
    m.origin,
  ];
}

/** A `messages` row as a StoredMessage. */
export function messageFromRow(r: types.Row): StoredMessage {
  return {
    messageId: r.message_id,
    conversationId: r.conversation_id,
    senderId: r.sender_id,
    type: r.type,
    content: r.content ?? "",
    attachments: r.attachments == null ? null : JSON.parse(r.attachments),
    metadata: r.metadata == null ? null : JSON.parse(r.metadata),
    targetChannels: r.target_channels ?? [],
    createdAt: (r.created_at as Date).getTime(),
    origin: r.origin,
    seq: num(r.seq),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first failure. */
export async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
