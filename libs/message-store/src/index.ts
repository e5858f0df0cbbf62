export type { MessageStore, HistoryQuery, InboxEntry } from "./message-store.ts";
export { createMessageStore, type MessageStoreConfig } from "./create.ts";
export { createSqliteMessageStore, type SqliteMessageStoreConfig } from "./message-store-sqlite.ts";
export { createCassandraMessageStore, type CassandraMessageStoreConfig } from "./message-store-cassandra.ts";
export { CASSANDRA_MIGRATIONS, type CassandraMigration } from "./cassandra-migrations.ts";
export { migrateCassandra } from "./cassandra-schema.ts";
export { bigintKey, intKey, routingKey, textKey } from "./cassandra-batches.ts";
