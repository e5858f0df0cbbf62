import { readdir, readFile } from "node:fs/promises";
import type { SqlDriver } from "./sql-driver.ts";

/** One schema change: `NNNN_name.sql`, applied once, in version order. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The migrations shipped in `src/migrations/`, sorted by version; rejects duplicate versions. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const out: Migration[] = [];
  for (const n of names) {
    const m = FILE.exec(n);
    if (!m) throw new Error(`metadata: migration file "${n}" is not named NNNN_name.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`metadata: two migrations with version ${version}`);
    out.push({ version, name: m[2] ?? n, sql: await readFile(new URL(n, dir), "utf8") });
  }
  return out;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction that
 * holds a transaction-scoped advisory lock: processes starting together apply each migration once.
 */
export async function migrate(db: SqlDriver, migrations: Migration[]): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('chat4all.metadata.migrate'))");
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
