import { type CassandraMessageStoreConfig, createCassandraMessageStore } from "./message-store-cassandra.ts";
import { createSqliteMessageStore, type SqliteMessageStoreConfig } from "./message-store-sqlite.ts";
import type { MessageStore } from "./message-store.ts";

/** Which MessageStore to build and how to reach it. */
export type MessageStoreConfig = ({ backend: "sqlite" } & SqliteMessageStoreConfig) | ({ backend: "cassandra" } & CassandraMessageStoreConfig);

/** Builds the MessageStore named by `config.backend` (not yet initialised: call `init()`). */
export function createMessageStore(config: MessageStoreConfig): MessageStore {
  switch (config.backend) {
    case "sqlite":
      return createSqliteMessageStore(config);
    case "cassandra":
      return createCassandraMessageStore(config);
    default:
      throw new Error(`unknown message store backend: "${(config as { backend: string }).backend}"`);
  }
}
