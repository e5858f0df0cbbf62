import { DEFAULT_ALLOWED_TYPES } from "@chat4all/gateway";
import * as v from "valibot";

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number), v.minValue(min), v.maxValue(max)), String(def));
const list = (def: string) => v.optional(v.pipe(v.string(), v.transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))), def);
const MiB = 1024 * 1024;
const DEV_SECRET = "chat4all-development-secret-change-me-0123456789";
/** Built-in development secrets of the external channels; production refuses them. */
const DEV_CHANNEL_SECRETS = {
  C4A_WHATSAPP_WEBHOOK_SECRET: "chat4all-dev-whatsapp-app-secret",
  C4A_INSTAGRAM_WEBHOOK_SECRET: "chat4all-dev-instagram-app-secret",
  C4A_PROVIDER_API_KEY: "chat4all-dev-provider-api-key",
} as const;
const secret = (name: keyof typeof DEV_CHANNEL_SECRETS) =>
  v.optional(v.pipe(v.string(), v.minLength(16, `${name} must be at least 16 bytes`)), DEV_CHANNEL_SECRETS[name]);
const url = (def: string) => v.optional(v.pipe(v.string(), v.url()), def);

/**
 * The platform's configuration, from the environment (parsed once, in main.ts). Every variable has
 * a default that runs the embedded mode on a laptop; cluster mode reads the C4A_* server addresses.
 */
export const PlatformEnv = v.pipe(
  v.object({
    /** embedded: one process, SQLite/PGlite/in-memory adapters; cluster: Kafka, NATS, Cassandra, PostgreSQL, Redis, MinIO. */
    C4A_MODE: v.optional(v.picklist(["embedded", "cluster"]), "embedded"),
    /** development allows the built-in JWT secret; production refuses to start without a real one. */
    C4A_ENV: v.optional(v.picklist(["development", "production", "test"]), "development"),
    C4A_LOG_LEVEL: v.optional(v.picklist(["debug", "info", "warn", "error", "silent"]), "info"),
    /** Embedded mode keeps its data here (survives restarts). */
    C4A_DATA_DIR: v.optional(v.string(), ".data"),
    C4A_JWT_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, "C4A_JWT_SECRET must be at least 32 bytes")), DEV_SECRET),
    C4A_ACCESS_TTL_SEC: int(900, 30, 86_400),
    C4A_REFRESH_TTL_SEC: int(30 * 86_400, 60),
    C4A_PARTITIONS: int(8, 1, 256),
    C4A_HOST: v.optional(v.string(), "127.0.0.1"),
    C4A_GATEWAY_PORT: int(3000, 0, 65_535),
    C4A_METADATA_PORT: int(3100, 0, 65_535),
    /** Where other apps reach the metadata service (cluster mode). */
    C4A_METADATA_URL: v.optional(v.pipe(v.string(), v.url()), "http://127.0.0.1:3100"),
    /** The origin clients use to reach the gateway (signed URLs of the embedded file store). */
    C4A_PUBLIC_URL: v.optional(v.pipe(v.string(), v.url())),
    C4A_INSTANCE_ID: v.optional(v.string()),
    C4A_MAX_BODY_BYTES: int(256 * 1024, 1024),
    C4A_MAX_FRAME_BYTES: int(64 * 1024, 1024),
    C4A_SEND_RATE_PER_MIN: int(600),
    C4A_AUTH_RATE_PER_MIN: int(60),
    C4A_UPLOAD_RATE_PER_MIN: int(60),
    C4A_IDEMPOTENCY_TTL_SEC: int(900, 1, 7 * 86_400),
    C4A_CORS_ORIGINS: list(""),
    C4A_KAFKA_BROKERS: list("127.0.0.1:59092"),
    C4A_NATS_URL: v.optional(v.string(), "nats://127.0.0.1:54222"),
    C4A_CASSANDRA_CONTACT_POINTS: list("127.0.0.1:59042"),
    C4A_CASSANDRA_DC: v.optional(v.string(), "datacenter1"),
    C4A_CASSANDRA_KEYSPACE: v.optional(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]{0,47}$/)), "chat4all"),
    C4A_POSTGRES_URL: v.optional(v.string(), "postgres://chat4all:chat4all@127.0.0.1:55432/chat4all"),
    C4A_REDIS_URL: v.optional(v.string(), "redis://127.0.0.1:56379"),
    C4A_S3_ENDPOINT: v.optional(v.pipe(v.string(), v.url()), "http://127.0.0.1:59000"),
    C4A_S3_ACCESS_KEY: v.optional(v.string(), "chat4all"),
    C4A_S3_SECRET_KEY: v.optional(v.string(), "chat4all-secret"),
    C4A_S3_BUCKET: v.optional(v.string(), "chat4all"),
    C4A_S3_REGION: v.optional(v.string(), "us-east-1"),
    /** Largest single-request (presigned POST) upload. */
    C4A_FILE_MAX_BYTES: int(100 * MiB, 1),
    /** Largest multipart upload. */
    C4A_FILE_MULTIPART_MAX_BYTES: int(2048 * MiB, 1),
    /** Multipart part size (S3: at least 5 MiB for every part but the last). */
    C4A_FILE_PART_BYTES: int(8 * MiB, 5 * MiB, 5 * 1024 * MiB),
    /** Accepted content types, comma-separated; `image/*` wildcards allowed. */
    C4A_FILE_ALLOWED_TYPES: v.optional(
      v.pipe(v.string(), v.transform((s) => s.split(",").map((x) => x.trim().toLowerCase()).filter(Boolean)), v.minLength(1, "list at least one type")),
      DEFAULT_ALLOWED_TYPES.join(","),
    ),
    /** Lifetime of presigned upload URLs (at most an hour). */
    C4A_FILE_UPLOAD_TTL_SEC: int(3600, 1, 3600),
    /** Lifetime of presigned download URLs. */
    C4A_FILE_VIEW_TTL_SEC: int(300, 1, 7 * 86_400),
    /** Uploads still open after this long (a single POST never sent, a multipart never completed) are closed and their bytes deleted. */
    C4A_FILE_ABANDON_AFTER_SEC: int(86_400, 1),
    /** How often each gateway looks for abandoned multipart uploads. */
    C4A_FILE_SWEEP_INTERVAL_SEC: int(300, 1),
    /** HMAC secret of WhatsApp webhooks (the app secret shared with the provider). */
    C4A_WHATSAPP_WEBHOOK_SECRET: secret("C4A_WHATSAPP_WEBHOOK_SECRET"),
    /** HMAC secret of Instagram webhooks. */
    C4A_INSTAGRAM_WEBHOOK_SECRET: secret("C4A_INSTAGRAM_WEBHOOK_SECRET"),
    /** Bearer key of the providers' APIs (WhatsApp, Instagram, push). */
    C4A_PROVIDER_API_KEY: secret("C4A_PROVIDER_API_KEY"),
    /** Where the connectors and the notifier reach the providers (the simulators by default). */
    C4A_WHATSAPP_API_URL: url("http://127.0.0.1:3201"),
    C4A_INSTAGRAM_API_URL: url("http://127.0.0.1:3202"),
    C4A_PUSH_API_URL: url("http://127.0.0.1:3203"),
    /** Ports of the provider simulators (0 = any free port; `bun run dev` uses 0 unless set). */
    C4A_WHATSAPP_SIM_PORT: int(3201, 0, 65_535),
    C4A_INSTAGRAM_SIM_PORT: int(3202, 0, 65_535),
    C4A_PUSH_SIM_PORT: int(3203, 0, 65_535),
    /** The gateway the simulators send webhooks to (`<url>/webhooks/<channel>`). */
    C4A_WEBHOOK_TARGET_URL: url("http://127.0.0.1:3000"),
    /** The simulators report `delivered` and then `read` these many ms after a send. */
    C4A_SIM_DELIVERED_AFTER_MS: int(300, 0, 3_600_000),
    C4A_SIM_READ_AFTER_MS: int(1500, 0, 3_600_000),
    /** Fraction of sends the simulators answer 503, to exercise the connectors' retries. */
    C4A_SIM_FAIL_RATE: v.optional(v.pipe(v.string(), v.regex(/^(0(\.\d+)?|1(\.0+)?)$/, "must be a number from 0 to 1"), v.transform(Number)), "0"),
  }),
  v.check((c) => c.C4A_ENV !== "production" || c.C4A_JWT_SECRET !== DEV_SECRET, "C4A_JWT_SECRET must be set in production"),
  v.check(
    (c) => c.C4A_ENV !== "production" || Object.entries(DEV_CHANNEL_SECRETS).every(([k, dev]) => c[k as keyof typeof DEV_CHANNEL_SECRETS] !== dev),
    "C4A_WHATSAPP_WEBHOOK_SECRET, C4A_INSTAGRAM_WEBHOOK_SECRET and C4A_PROVIDER_API_KEY must be set in production",
  ),
);
/** Parsed configuration. */
export type PlatformConfig = v.InferOutput<typeof PlatformEnv>;

/** Parses the environment; throws one readable error listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): PlatformConfig {
  const r = v.safeParse(PlatformEnv, env);
  if (r.success) return r.output;
  const lines = r.issues.map((i) => `  ${i.path?.map((p) => String(p.key)).join(".") ?? "config"}: ${i.message}`);
  throw new Error(`invalid configuration:\n${lines.join("\n")}`);
}

/** True when the configuration still uses the built-in development secret. */
export const usesDevSecret = (c: PlatformConfig) => c.C4A_JWT_SECRET === DEV_SECRET;
