import { type BlobStore, createBlobStore } from "@chat4all/blob";
import { type Bus, createBus } from "@chat4all/bus";
import { type Ephemeral, createEphemeral } from "@chat4all/ephemeral";
import { type EventLog, createEventLog } from "@chat4all/eventlog";
import { topicSpecs } from "@chat4all/events";
import { type Logger, withRetry } from "@chat4all/kernel";
import { type MessageStore, createMessageStore } from "@chat4all/message-store";
import { type LocalMetadata, type Metadata, createMetadata } from "@chat4all/metadata";
import { createHttpTransport, createMetadataClient, createSequencerClient } from "@chat4all/rpc";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { PlatformConfig } from "./config.ts";

/**
 * Opens each adapter for the configured mode. In cluster mode a server that is down at start-up is
 * retried with backoff (logged), never a crash loop; `signal` stops the retrying.
 */
export function createInfra(c: PlatformConfig, log: Logger, signal?: AbortSignal) {
  const dataDir = resolve(c.C4A_DATA_DIR);
  const embedded = c.C4A_MODE === "embedded";
  if (embedded) mkdirSync(dataDir, { recursive: true });
  const retry = <T>(what: string, fn: () => Promise<T>) =>
    withRetry(what, fn, { signal, onError: (err, attempt) => log.warn(`${what}: not reachable yet, retrying`, { attempt, err }) });

  // One Bus and one Ephemeral per process: in embedded mode they are the only link between apps.
  let bus: Promise<Bus> | undefined;
  let ephemeral: Promise<Ephemeral> | undefined;
  return {
    async eventLog(): Promise<EventLog> {
      const events = await retry("event log", () =>
        createEventLog(
          embedded
            ? { backend: "sqlite", path: join(dataDir, "events.sqlite"), synchronous: "full" }
            : {
                backend: "kafka",
                brokers: c.C4A_KAFKA_BROKERS,
                clientId: c.C4A_INSTANCE_ID ?? "chat4all",
                // A worker owns every partition of its topic: handle them all at once (default 4).
                partitionsConsumedConcurrently: c.C4A_PARTITIONS,
              },
          { logger: log.child({ component: "event-log" }) },
        ),
      );
      await retry("event log", () => events.ensureTopics(topicSpecs(c.C4A_PARTITIONS)));
      return events;
    },
    bus(): Promise<Bus> {
      return (bus ??= retry("bus", () =>
        createBus(embedded ? { backend: "memory" } : { backend: "nats", servers: c.C4A_NATS_URL.split(","), name: c.C4A_INSTANCE_ID }),
      ));
    },
    async messageStore(): Promise<MessageStore> {
      const store = createMessageStore(
        embedded
          ? { backend: "sqlite", path: join(dataDir, "messages.sqlite") }
          : {
              backend: "cassandra",
              contactPoints: c.C4A_CASSANDRA_CONTACT_POINTS,
              localDataCenter: c.C4A_CASSANDRA_DC,
              keyspace: c.C4A_CASSANDRA_KEYSPACE,
              // A batch touches one partition per conversation/member: send them all at once (the driver coalesces the writes).
              writeConcurrency: 128,
            },
      );
      await retry("message store", () => store.init());
      return store;
    },
    ephemeral(): Promise<Ephemeral> {
      return (ephemeral ??= retry("ephemeral", async () =>
        createEphemeral(embedded ? { backend: "memory" } : { backend: "redis", url: c.C4A_REDIS_URL }),
      ));
    },
    async blobStore(publicUrl: string): Promise<BlobStore> {
      const blobs = createBlobStore(
        embedded
          ? { backend: "local", root: join(dataDir, "files"), publicBaseUrl: publicUrl, secret: c.C4A_JWT_SECRET }
          : {
              backend: "minio",
              endpoint: c.C4A_S3_ENDPOINT,
              accessKey: c.C4A_S3_ACCESS_KEY,
              secretKey: c.C4A_S3_SECRET_KEY,
              bucket: c.C4A_S3_BUCKET,
              region: c.C4A_S3_REGION,
            },
      );
      await retry("blob store", () => blobs.init());
      return blobs;
    },
    /** The metadata store and sequencer themselves (the metadata app, or the embedded process). */
    async metadataLocal(): Promise<LocalMetadata> {
      const m = createMetadata(embedded ? { backend: "pglite", dataDir: join(dataDir, "metadata") } : { backend: "postgres", url: c.C4A_POSTGRES_URL });
      await retry("metadata store", () => m.store.init());
      return m;
    },
    /** Clients of the metadata service over Connect-RPC (cluster apps). */
    metadataRemote(): Metadata {
      const transport = createHttpTransport(c.C4A_METADATA_URL);
      return { store: createMetadataClient(transport), sequencer: createSequencerClient(transport) };
    },
  };
}

/** The adapter opener of one process. */
export type Infra = ReturnType<typeof createInfra>;
