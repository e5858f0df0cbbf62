import { type DomainError, conflict, notFound } from "@chat4all/kernel";
import type { AllocateRequest, AllocateResult } from "./metadata-store.ts";
import { pgErrorOf, type SqlDriver, type SqlExecutor } from "./sql-driver.ts";

/** A concurrent allocator sequenced one of our ids first: roll back and retry with the rows locked. */
class LostRace extends Error {}
const MAX_ATTEMPTS = 5;
const retryable = (err: unknown) => err instanceof LostRace || ["40P01", "40001"].includes(pgErrorOf(err)?.code ?? "");

/**
 * Allocates seqs for many conversations in ONE transaction of four statements, whatever their
 * number: look up known ids; bump every conversation's `last_seq` by its count of new ids (rows
 * updated in id order, so concurrent batches cannot deadlock each other); insert every new id with
 * its seq; commit. A conversation that does not exist, or whose ids were sequenced in another
 * conversation, gets an error result and changes nothing; the others are allocated.
 */
export async function allocateBatch(db: SqlDriver, requests: AllocateRequest[]): Promise<AllocateResult[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction((tx) => allocateOnce(tx, requests, attempt > 0));
    } catch (err) {
      if (!retryable(err) || attempt + 1 >= MAX_ATTEMPTS) throw err;
    }
  }
}

async function allocateOnce(tx: SqlExecutor, requests: AllocateRequest[], lockFirst: boolean): Promise<AllocateResult[]> {
  // Merge requests for the same conversation, keeping first-seen order of ids.
  const byConv = new Map<string, string[]>();
  for (const r of requests) {
    const ids = byConv.get(r.conversationId) ?? [];
    for (const id of r.messageIds) if (!ids.includes(id)) ids.push(id);
    byConv.set(r.conversationId, ids);
  }
  const convIds = [...byConv.keys()].sort();
  if (lockFirst) await tx.query("SELECT id FROM conversations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", [convIds]);
  const allIds = [...byConv.values()].flat();
  const known = allIds.length
    ? await tx.query<{ message_id: string; conversation_id: string; seq: number | string }>(
        "SELECT message_id, conversation_id, seq FROM message_sequences WHERE message_id = ANY($1::text[])",
        [allIds],
      )
    : [];
  const seqOf = new Map<string, { conv: string; seq: number }>();
  for (const r of known) seqOf.set(r.message_id, { conv: r.conversation_id, seq: Number(r.seq) });

  const errors = new Map<string, DomainError>();
  const fresh = new Map<string, string[]>();
  for (const conv of convIds) {
    const ids = byConv.get(conv) as string[];
    const foreign = ids.filter((id) => seqOf.has(id) && seqOf.get(id)?.conv !== conv);
    if (foreign.length > 0) {
      errors.set(conv, conflict("MESSAGE_ID_CONFLICT", `message ids already sequenced in another conversation: ${foreign.slice(0, 5).join(", ")}`));
      continue;
    }
    fresh.set(conv, ids.filter((id) => !seqOf.has(id)));
  }
  // Conversations with nothing new still must exist.
  const bump = convIds.filter((c) => fresh.has(c));
  const counts = bump.map((c) => fresh.get(c)?.length ?? 0);
  const updated = bump.length
    ? await tx.query<{ id: string; last_seq: number | string }>(
        `UPDATE conversations AS c SET last_seq = c.last_seq + r.n,
           updated_at = CASE WHEN r.n > 0 THEN now() ELSE c.updated_at END
         FROM (SELECT * FROM unnest($1::text[], $2::bigint[]) AS t(id, n) ORDER BY id) AS r
         WHERE c.id = r.id RETURNING c.id, c.last_seq`,
        [bump, counts],
      )
    : [];
  const lastOf = new Map(updated.map((r) => [r.id, Number(r.last_seq)]));
  const insIds: string[] = [];
  const insConvs: string[] = [];
  const insSeqs: number[] = [];
  for (const conv of bump) {
    const last = lastOf.get(conv);
    if (last === undefined) {
      errors.set(conv, notFound("CONVERSATION_NOT_FOUND", `conversation ${conv} not found`));
      continue;
    }
    const ids = fresh.get(conv) as string[];
    ids.forEach((id, i) => {
      const seq = last - ids.length + 1 + i;
      seqOf.set(id, { conv, seq });
      insIds.push(id);
      insConvs.push(conv);
      insSeqs.push(seq);
    });
  }
  if (insIds.length > 0) {
    const [row] = await tx.query<{ inserted: number | string }>(
      `WITH ins AS (
         INSERT INTO message_sequences (message_id, conversation_id, seq)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (message_id) DO NOTHING RETURNING 1)
       SELECT count(*) AS inserted FROM ins`,
      [insIds, insConvs, insSeqs],
    );
    if (Number(row?.inserted) !== insIds.length) throw new LostRace();
  }
  return requests.map((r) => {
    const err = errors.get(r.conversationId);
    return err ? { error: err } : { seqs: r.messageIds.map((id) => seqOf.get(id)?.seq as number) };
  });
}
