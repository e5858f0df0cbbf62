/**
 * Versioned CQL migrations of the Cassandra MessageStore, applied in order and recorded in
 * `<keyspace>.schema_migrations`. `{ks}` stands for the keyspace. Every statement uses IF NOT EXISTS
 * so a migration that ran halfway (a crash) can simply run again. Never edit a released migration:
 * append a new one.
 */
export interface CassandraMigration {
  version: number;
  name: string;
  /** Statements separated by `;` at the end of a line. */
  cql: string;
}

/** Tables the migration runner itself needs; created before anything else (IF NOT EXISTS). */
export const BOOTSTRAP_CQL = `
CREATE TABLE IF NOT EXISTS {ks}.schema_migrations (
  version int PRIMARY KEY,
  name text,
  applied_at timestamp
);
CREATE TABLE IF NOT EXISTS {ks}.schema_lock (
  id text PRIMARY KEY,
  owner text
);`;

/** The migrations, oldest first; versions are dense from 1. */
export const CASSANDRA_MIGRATIONS: CassandraMigration[] = [
  {
    version: 1,
    name: "history, receipts, inbox",
    cql: `
-- History: one partition per (conversation, seq range); seq = bucket * bucket_size + offset.
CREATE TABLE IF NOT EXISTS {ks}.messages (
  conversation_id text,
  bucket bigint,
  seq bigint,
  message_id text,
  sender_id text,
  type text,
  content text,
  attachments text,
  metadata text,
  target_channels list<text>,
  created_at timestamp,
  origin text,
  PRIMARY KEY ((conversation_id, bucket), seq)
) WITH CLUSTERING ORDER BY (seq DESC);
-- Which buckets of a conversation hold rows: lets a page jump over empty ranges in one query.
CREATE TABLE IF NOT EXISTS {ks}.message_buckets (
  conversation_id text,
  bucket bigint,
  PRIMARY KEY ((conversation_id), bucket)
) WITH CLUSTERING ORDER BY (bucket DESC);
-- Receipt markers; each cell is written with write-time = its value (see message-store-cassandra.ts).
CREATE TABLE IF NOT EXISTS {ks}.receipts (
  conversation_id text,
  user_id text,
  delivered_up_to bigint,
  read_up_to bigint,
  PRIMARY KEY ((conversation_id), user_id)
);
-- Per-user inbox by acceptance day, holding the whole message so /v1/sync needs one query per day.
CREATE TABLE IF NOT EXISTS {ks}.user_inbox (
  user_id text,
  day int,
  created_at timestamp,
  conversation_id text,
  seq bigint,
  message text,
  PRIMARY KEY ((user_id, day), created_at, conversation_id, seq)
);
-- Which days of a user's inbox hold rows.
CREATE TABLE IF NOT EXISTS {ks}.user_inbox_days (
  user_id text,
  day int,
  PRIMARY KEY ((user_id), day)
);
-- Settings fixed at first start (bucket_size): changing them later would hide stored rows.
CREATE TABLE IF NOT EXISTS {ks}.store_settings (
  name text PRIMARY KEY,
  value text
);`,
  },
];

/** Splits a migration's text into single statements (Cassandra runs one per request). */
export function splitCql(cql: string, keyspace: string): string[] {
  return cql
    .split(/;\s*$/m)
    .map((s) =>
      s
        .split("\n")
        .filter((l) => !l.trim().startsWith("--"))
        .join("\n")
        .trim(),
    )
    .filter((s) => s.length > 0)
    .map((s) => s.replaceAll("{ks}", keyspace));
}
