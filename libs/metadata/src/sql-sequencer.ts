import { conflict, notFound } from "@chat4all/kernel";
import { pgErrorOf, type SqlDriver, type SqlExecutor } from "./sql-driver.ts";

const notFoundConversation = (id: string) => notFound("CONVERSATION_NOT_FOUND", `conversation ${id} not found`);

/** Thrown inside the transaction when a concurrent allocator sequenced one of our ids first: roll back, retry. */
class LostRace extends Error {}

const MAX_ATTEMPTS = 5;

/** A lost race, or a deadlock/serialization failure (two calls inserting the same ids into two conversations). */
const retryable = (err: unknown) => err instanceof LostRace || ["40P01", "40001"].includes(pgErrorOf(err)?.code ?? "");

/**
 * Allocates dense seqs for `messageIds` in `conversationId` (see Sequencer). One transaction of
 * three statements: look up known ids; bump `last_seq` by the number of new ids (the row lock
 * serializes allocators of one conversation) and insert the new ids with consecutive seqs; commit.
 * If a concurrent call sequenced one of our new ids in between, the insert skips it, we roll back
 * and retry with the conversation row locked before the lookup (deadlocks are retried too).
 */
export async function allocateSeqs(db: SqlDriver, conversationId: string, messageIds: string[]): Promise<number[]> {
  const unique = [...new Set(messageIds)];
  if (unique.length === 0) {
    await lastSeqOf(db, conversationId);
    return [];
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const seqs = await db.transaction((tx) => allocateOnce(tx, conversationId, unique, attempt > 0));
      return messageIds.map((id) => seqs.get(id) as number);
    } catch (err) {
      if (!retryable(err) || attempt + 1 >= MAX_ATTEMPTS) throw err;
    }
  }
}

async function allocateOnce(tx: SqlExecutor, conversationId: string, ids: string[], lockFirst: boolean) {
  if (lockFirst) {
    const locked = await tx.query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", [conversationId]);
    if (locked.length === 0) throw notFoundConversation(conversationId);
  }
  const known = await tx.query<{ message_id: string; conversation_id: string; seq: number | string }>(
    "SELECT message_id, conversation_id, seq FROM message_sequences WHERE message_id = ANY($1::text[])",
    [ids],
  );
  const seqs = new Map<string, number>();
  const foreign: string[] = [];
  for (const r of known) {
    if (r.conversation_id !== conversationId) foreign.push(r.message_id);
    else seqs.set(r.message_id, Number(r.seq));
  }
  if (foreign.length > 0) {
    throw conflict("MESSAGE_ID_CONFLICT", `message ids already sequenced in another conversation: ${foreign.slice(0, 5).join(", ")}`);
  }
  const fresh = ids.filter((id) => !seqs.has(id));
  if (fresh.length === 0) return seqs;
  const [row] = await tx.query<{ last_seq: number | string | null; inserted: number | string }>(
    `WITH c AS (
       UPDATE conversations SET last_seq = last_seq + $2::bigint, updated_at = now()
       WHERE id = $1 RETURNING last_seq
     ), ins AS (
       INSERT INTO message_sequences (message_id, conversation_id, seq)
       SELECT t.id, $1, c.last_seq - $2::bigint + t.ord
       FROM c, unnest($3::text[]) WITH ORDINALITY AS t(id, ord)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING 1
     )
     SELECT (SELECT last_seq FROM c) AS last_seq, (SELECT count(*) FROM ins) AS inserted`,
    [conversationId, fresh.length, fresh],
  );
  if (row?.last_seq == null) throw notFoundConversation(conversationId);
  if (Number(row.inserted) !== fresh.length) throw new LostRace();
  const first = Number(row.last_seq) - fresh.length + 1;
  fresh.forEach((id, i) => seqs.set(id, first + i));
  return seqs;
}

/** The conversation's highest allocated seq; CONVERSATION_NOT_FOUND when it does not exist. */
export async function lastSeqOf(db: SqlExecutor, conversationId: string): Promise<number> {
  const [row] = await db.query<{ last_seq: number | string }>("SELECT last_seq FROM conversations WHERE id = $1", [conversationId]);
  if (!row) throw notFoundConversation(conversationId);
  return Number(row.last_seq);
}
