import { createPgDriver } from "./driver-pg.ts";
import { createPgliteDriver } from "./driver-pglite.ts";
import type { MetadataStore, Outbox, Sequencer } from "./metadata-store.ts";
import { SqlMetadata } from "./metadata-sql.ts";
import type { SqlDriver } from "./sql-driver.ts";

/** Where metadata lives: embedded PGlite (a data folder, in-memory without one) or a PostgreSQL server. */
export type MetadataConfig =
  | { backend: "pglite"; dataDir?: string }
  | { backend: "postgres"; url: string; poolSize?: number; schema?: string };

/** The store and the sequencer, local or behind RPC; call `store.init()` on a local one before use. */
export interface Metadata {
  store: MetadataStore;
  sequencer: Sequencer;
}

/** The metadata database itself: also its outbox, which only the process owning it relays. */
export interface LocalMetadata extends Metadata {
  outbox: Outbox;
}

/** A SqlDriver for the configured backend; throws `unknown metadata backend: "x"` otherwise. */
export function createSqlDriver(config: MetadataConfig): SqlDriver {
  switch (config.backend) {
    case "pglite":
      return createPgliteDriver({ dataDir: config.dataDir });
    case "postgres":
      return createPgDriver({ url: config.url, poolSize: config.poolSize, schema: config.schema });
    default:
      throw new Error(`unknown metadata backend: "${(config as { backend: string }).backend}"`);
  }
}

/** Metadata store and sequencer for the configured backend (same SQL and migrations on both). */
export function createMetadata(config: MetadataConfig): LocalMetadata {
  const sql = new SqlMetadata(createSqlDriver(config));
  return { store: sql, sequencer: sql, outbox: sql };
}
