import type { TokenSigner, PasswordHasher } from "@chat4all/auth";
import type { BlobStore } from "@chat4all/blob";
import type { Bus } from "@chat4all/bus";
import type { Ephemeral } from "@chat4all/ephemeral";
import type { EventLog } from "@chat4all/eventlog";
import type { Logger, Metrics } from "@chat4all/kernel";
import type { MessageStore } from "@chat4all/message-store";
import type { MetadataStore } from "@chat4all/metadata";
import type { MembershipCache } from "@chat4all/pipeline";
import type { FileSettings } from "./modules/files/settings.ts";

/** Tunables of a gateway instance (parsed from the environment by the app). */
export interface GatewaySettings {
  /** Unique per instance: presence entries and logs carry it. */
  instanceId: string;
  accessTtlSec: number;
  refreshTtlSec: number;
  maxBodyBytes: number;
  maxFrameBytes: number;
  /** Sends per user per minute (0 = unlimited). */
  sendRatePerMin: number;
  /** Auth requests per IP per minute (0 = unlimited). */
  authRatePerMin: number;
  /** Upload starts (presigned POST or multipart) per user per minute (0 = unlimited; absent = 60). */
  uploadRatePerMin?: number;
  /**
   * How long an idempotency key is remembered at the gateway (absent = 900 s): a retry within it gets
   * the first acceptance back, a reuse for another conversation is refused with 409. Later retries are
   * still deduplicated by ingest (message ids are sequenced once, forever).
   */
  idempotencyTtlSec?: number;
  corsOrigins: string[];
  /** HMAC secrets of the provider webhooks (`X-Hub-Signature-256`); a channel without one rejects every webhook. */
  webhookSecrets?: { whatsapp: string; instagram: string };
  /** Uploads and downloads (defaults: DEFAULT_FILE_SETTINGS). */
  files?: FileSettings;
}

/** Everything a gateway needs, passed in by the composition root. */
export interface GatewayDeps {
  settings: GatewaySettings;
  log: Logger;
  metadata: MetadataStore;
  messages: MessageStore;
  events: EventLog;
  bus: Bus;
  ephemeral: Ephemeral;
  blobs?: BlobStore;
  members: MembershipCache;
  signer: TokenSigner;
  passwords: PasswordHasher;
  /** Metrics registry served at /metrics (one is created when absent). */
  metrics?: Metrics;
}
