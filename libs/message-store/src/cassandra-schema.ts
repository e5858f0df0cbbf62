import { sleep } from "@chat4all/kernel";
import { type Client, types } from "cassandra-driver";
import { BOOTSTRAP_CQL, CASSANDRA_MIGRATIONS, type CassandraMigration, splitCql } from "./cassandra-migrations.ts";

const QUORUM = { prepare: true, consistency: types.consistencies.quorum };
const LOCK_TTL_SEC = 120;

/** Keyspace names Cassandra accepts (and that are safe to splice into CQL). */
export function checkKeyspaceName(ks: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(ks)) throw new Error(`cassandra: invalid keyspace name "${ks}"`);
  return ks;
}

/**
 * Brings `keyspace` up to the newest migration; safe when several processes start at once.
 * The keyspace and the runner's own tables use IF NOT EXISTS; pending migrations run under a
 * lease (an LWT row with a TTL) so only one process issues DDL at a time, the others wait for
 * `schema_migrations` to list every version. Each migration is itself idempotent (IF NOT EXISTS),
 * so a lease that expired under a crashed runner is simply taken over.
 */
export async function migrateCassandra(
  client: Client,
  keyspace: string,
  replicationFactor: number,
  opts: { migrations?: CassandraMigration[]; timeoutMs?: number } = {},
): Promise<number[]> {
  const ks = checkKeyspaceName(keyspace);
  const migrations = opts.migrations ?? CASSANDRA_MIGRATIONS;
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${Math.max(1, Math.floor(replicationFactor))}}`,
  );
  for (const stmt of splitCql(BOOTSTRAP_CQL, ks)) await client.execute(stmt);

  const applied = async () =>
    new Set((await client.execute(`SELECT version FROM ${ks}.schema_migrations`, [], QUORUM)).rows.map((r) => r.version as number));
  const ran: number[] = [];
  for (;;) {
    const done = await applied();
    const pending = migrations.filter((m) => !done.has(m.version));
    if (pending.length === 0) return ran;
    const owner = crypto.randomUUID();
    const lock = await client.execute(
      `INSERT INTO ${ks}.schema_lock (id, owner) VALUES ('migrations', ?) IF NOT EXISTS USING TTL ${LOCK_TTL_SEC}`,
      [owner],
      QUORUM,
    );
    if (lock.wasApplied()) {
      try {
        const now = await applied(); // another runner may have finished between our read and the lock
        for (const m of migrations.filter((x) => !now.has(x.version))) {
          for (const stmt of splitCql(m.cql, ks)) await client.execute(stmt);
          await client.execute(
            `INSERT INTO ${ks}.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
            [m.version, m.name, new Date()],
            QUORUM,
          );
          ran.push(m.version);
        }
      } finally {
        await client.execute(`DELETE FROM ${ks}.schema_lock WHERE id = 'migrations' IF owner = ?`, [owner], QUORUM).catch(() => {});
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`cassandra: timed out waiting for another process to migrate ${ks}`);
    await sleep(200 + Math.random() * 200);
  }
}
