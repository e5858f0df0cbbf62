import { PGlite } from "@electric-sql/pglite";
import type { SqlDriver, SqlExecutor } from "./sql-driver.ts";

/** Settings of the embedded driver: a data folder, or in-memory when absent. */
export interface PgliteDriverConfig {
  dataDir?: string;
}

type Queryable = Pick<PGlite, "query" | "exec">;

function executor(db: Queryable): SqlExecutor {
  return {
    async query<R>(text: string, params?: unknown[]) {
      return (await db.query<R>(text, params)).rows;
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
}

/** A SqlDriver over PGlite (Postgres in WASM, one process, statements serialized by PGlite). */
export function createPgliteDriver(config: PgliteDriverConfig = {}): SqlDriver {
  const db = new PGlite(config.dataDir);
  const ready = db.waitReady.catch((cause: unknown) => {
    throw new Error(`pglite: open ${config.dataDir ?? "in-memory database"}`, { cause });
  });
  const direct = executor(db);
  return {
    async query<R>(text: string, params?: unknown[]) {
      await ready;
      return direct.query<R>(text, params);
    },
    async exec(script: string) {
      await ready;
      return direct.exec(script);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
      await ready;
      return db.transaction((tx) => fn(executor(tx)));
    },
    async close() {
      await ready.catch(() => undefined);
      if (!db.closed) await db.close();
    },
  };
}
