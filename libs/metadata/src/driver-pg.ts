import pg from "pg";
import type { SqlDriver, SqlExecutor } from "./sql-driver.ts";

/** Settings of the PostgreSQL driver; `schema` (optional) becomes the connections' search_path. */
export interface PgDriverConfig {
  url: string;
  poolSize?: number;
  schema?: string;
}

function executor(db: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query<R>(text: string, params?: unknown[]) {
      return (await db.query(text, params)).rows as R[];
    },
    async exec(script: string) {
      await db.query(script); // no parameters: simple protocol, several statements allowed
    },
  };
}

/** A SqlDriver over a `pg` Pool; each transaction holds one pooled connection. */
export function createPgDriver(config: PgDriverConfig): SqlDriver {
  if (config.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(config.schema)) {
    throw new Error(`postgres: invalid schema name "${config.schema}"`);
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    options: config.schema ? `-c search_path=${config.schema}` : undefined,
  });
  // An idle connection that dies (server restart) must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const direct = executor(pool);
  return {
    query: direct.query,
    exec: direct.exec,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const out = await fn(executor(client));
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK").catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
