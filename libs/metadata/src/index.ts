export type {
  MetadataStore,
  Sequencer,
  Role,
  User,
  NewUser,
  Identity,
  RefreshToken,
  Conversation,
  NewConversation,
  Member,
  FileRecord,
  AllocateRequest,
  AllocateResult,
  Outbox,
  OutboxRecord,
  ClaimedRecord,
} from "./metadata-store.ts";
export { createMetadata, createSqlDriver, type LocalMetadata, type Metadata, type MetadataConfig } from "./create.ts";
export { SqlMetadata } from "./metadata-sql.ts";
export type { SqlDriver, SqlExecutor } from "./sql-driver.ts";
export { createPgDriver, type PgDriverConfig } from "./driver-pg.ts";
export { createPgliteDriver, type PgliteDriverConfig } from "./driver-pglite.ts";
export { loadMigrations, migrate, type Migration } from "./migrate.ts";
