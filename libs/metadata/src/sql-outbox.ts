import type { ClaimedRecord, OutboxRecord } from "./metadata-store.ts";
import { guard } from "./sql-common.ts";
import type { SqlDriver, SqlExecutor } from "./sql-driver.ts";

type OutboxRow = { id: string; topic: string; key: string; value: Uint8Array };

/** Writes `records` to the outbox through `tx` (the caller's transaction). */
export async function writeOutbox(tx: SqlExecutor, records: OutboxRecord[]): Promise<void> {
  for (const r of records)
    await tx.query("INSERT INTO outbox (topic, key, value) VALUES ($1, $2, $3)", [r.topic, r.key, Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)]);
}

/** Leases up to `limit` records nobody holds (never claimed, or lease over), oldest first. */
export function claimOutbox(db: SqlDriver, limit: number, leaseMs: number): Promise<ClaimedRecord[]> {
  return guard("claim outbox", async () => {
    const rows = await db.query<OutboxRow>(
      `UPDATE outbox SET claimed_until = clock_timestamp() + ($2::bigint * interval '1 millisecond')
       WHERE id IN (SELECT id FROM outbox WHERE claimed_until IS NULL OR claimed_until < clock_timestamp()
                    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, topic, key, value`,
      [Math.max(0, Math.floor(limit)), Math.max(1, Math.floor(leaseMs))],
    );
    return rows
      .map((r) => ({ id: r.id, topic: r.topic, key: r.key, value: new Uint8Array(r.value) }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  });
}

/** Deletes relayed records. */
export function ackOutbox(db: SqlDriver, ids: string[]): Promise<void> {
  return guard("ack outbox", async () => {
    if (ids.length > 0) await db.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [ids]);
  });
}
