import { createPasswordHasher, createTokenSigner } from "@chat4all/auth";
import type { Bus } from "@chat4all/bus";
import type { EventLog } from "@chat4all/eventlog";
import { type GatewayDeps, type Mount, createGatewayApp, createGatewayServer, createStaticMount, createUploadSweeper, type FileSettings } from "@chat4all/gateway";
import type { Logger, Service } from "@chat4all/kernel";
import type { MessageStore } from "@chat4all/message-store";
import type { Metadata, Outbox } from "@chat4all/metadata";
import { createFanoutService, createIngestService, createMembershipCache, createOutboxRelay, createStatusService } from "@chat4all/pipeline";
import { createRouterTransport } from "@connectrpc/connect";
import { createConnectHandler, createMetadataClient, createMetadataService, createSequencerClient, createSequencerService } from "@chat4all/rpc";
import { MetadataService, SequencerService } from "@chat4all/proto";
import type { PlatformConfig } from "./config.ts";
import type { Infra } from "./infra.ts";

/** Closes resources in reverse order of opening, logging failures instead of throwing. */
export function createCloser(log: Logger) {
  const items: { name: string; close: () => unknown }[] = [];
  return {
    add<T extends { close(): unknown }>(name: string, resource: T): T {
      items.push({ name, close: () => resource.close() });
      return resource;
    },
    async closeAll() {
      for (const it of items.reverse()) {
        try {
          await it.close();
        } catch (err) {
          log.warn("close failed", { resource: it.name, err });
        }
      }
    },
  };
}

/** The metadata app: MetadataService + SequencerService over Connect on one port. */
export function metadataServer(c: PlatformConfig, metadata: Metadata, log: Logger): Service {
  const handler = createConnectHandler((router) => {
    router.service(MetadataService, createMetadataService(metadata.store));
    router.service(SequencerService, createSequencerService(metadata.sequencer));
  });
  return {
    name: "metadata",
    async run(signal) {
      const server = Bun.serve({
        port: c.C4A_METADATA_PORT,
        hostname: c.C4A_HOST,
        async fetch(req) {
          const url = new URL(req.url);
          if (url.pathname === "/health") return Response.json({ status: "ok" });
          if (url.pathname === "/ready") {
            const ok = await metadata.store.healthy().catch(() => false);
            return Response.json({ status: ok ? "ready" : "not_ready" }, { status: ok ? 200 : 503 });
          }
          return (await handler(req)) ?? Response.json({ error: { code: "NOT_FOUND", message: "no such route" } }, { status: 404 });
        },
      });
      log.info("metadata service listening", { url: server.url.toString() });
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      await server.stop();
    },
  };
}

/**
 * The metadata outbox relay as a Service. The event log is opened inside the service (retried
 * until it answers), so the metadata RPC serves even while Kafka is away; records wait meanwhile.
 */
export function outboxRelayService(openEvents: () => Promise<EventLog>, outbox: Outbox, log: Logger, opts: { close?: boolean } = {}): Service {
  return {
    name: "outbox-relay",
    async run(signal) {
      const aborted = new Promise<null>((r) => (signal.aborted ? r(null) : signal.addEventListener("abort", () => r(null), { once: true })));
      const events = await Promise.race([openEvents(), aborted]);
      if (!events) return;
      try {
        await createOutboxRelay({ outbox, events, log: log.child({ component: "outbox-relay" }) }).run(signal);
      } finally {
        if (opts.close) await events.close().catch((err) => log.warn("close failed", { resource: "event log", err }));
      }
    },
  };
}

/** Everything the gateway and the workers share, opened once per process. */
export interface Core {
  events: EventLog;
  bus: Bus;
  messages: MessageStore;
  metadata: Metadata;
}

/** A gateway instance as a Service. */
export async function gatewayService(
  c: PlatformConfig,
  infra: Infra,
  core: Core,
  log: Logger,
  opts: { onListen?: (url: string) => void; beforeListen?: () => Promise<void> } = {},
): Promise<Service & { url(): string | undefined }> {
  const publicUrl = c.C4A_PUBLIC_URL ?? `http://${c.C4A_HOST}:${c.C4A_GATEWAY_PORT}`;
  const blobs = await infra.blobStore(publicUrl);
  const ephemeral = await infra.ephemeral();
  await opts.beforeListen?.();
  const files: FileSettings = {
    maxBytes: c.C4A_FILE_MAX_BYTES,
    multipartMaxBytes: c.C4A_FILE_MULTIPART_MAX_BYTES,
    partBytes: c.C4A_FILE_PART_BYTES,
    allowedTypes: c.C4A_FILE_ALLOWED_TYPES,
    uploadTtlSec: c.C4A_FILE_UPLOAD_TTL_SEC,
    viewTtlSec: c.C4A_FILE_VIEW_TTL_SEC,
    abandonAfterSec: c.C4A_FILE_ABANDON_AFTER_SEC,
    sweepIntervalSec: c.C4A_FILE_SWEEP_INTERVAL_SEC,
  };
  const deps: GatewayDeps = {
    settings: {
      instanceId: c.C4A_INSTANCE_ID ?? `gw-${process.pid}-${c.C4A_GATEWAY_PORT}`,
      accessTtlSec: c.C4A_ACCESS_TTL_SEC,
      refreshTtlSec: c.C4A_REFRESH_TTL_SEC,
      maxBodyBytes: c.C4A_MAX_BODY_BYTES,
      maxFrameBytes: c.C4A_MAX_FRAME_BYTES,
      sendRatePerMin: c.C4A_SEND_RATE_PER_MIN,
      authRatePerMin: c.C4A_AUTH_RATE_PER_MIN,
      uploadRatePerMin: c.C4A_UPLOAD_RATE_PER_MIN,
      idempotencyTtlSec: c.C4A_IDEMPOTENCY_TTL_SEC,
      corsOrigins: c.C4A_CORS_ORIGINS,
      webhookSecrets: { whatsapp: c.C4A_WHATSAPP_WEBHOOK_SECRET, instagram: c.C4A_INSTAGRAM_WEBHOOK_SECRET },
      files,
    },
    log: log.child({ app: "gateway" }),
    metadata: core.metadata.store,
    messages: core.messages,
    events: core.events,
    bus: core.bus,
    ephemeral,
    blobs,
    members: createMembershipCache({ metadata: core.metadata.store, bus: core.bus }),
    signer: createTokenSigner(c.C4A_JWT_SECRET),
    passwords: createPasswordHasher(c.C4A_ENV === "test" ? { memoryCost: 1024, timeCost: 1 } : {}),
  };
  const gateway = createGatewayApp(deps);
  const mounts: Mount[] = blobs.handle ? [(req) => blobs.handle?.(req)] : [];
  mounts.push(createStaticMount(`${import.meta.dir}/../../../apps/web/public`)); // the web client at / and /assets/*
  const server = createGatewayServer(deps, gateway, { port: c.C4A_GATEWAY_PORT, hostname: c.C4A_HOST, mounts, onListen: opts.onListen });
  // Every gateway also closes abandoned multipart uploads (safe to run on all instances at once).
  const sweeper = createUploadSweeper({ metadata: deps.metadata, blobs, log: deps.log }, files);
  return { name: server.name, url: server.url, run: async (signal) => void (await Promise.all([server.run(signal), sweeper.run(signal)])) };
}

/** The pipeline workers (ingest, fanout, status) as Services. */
export async function workerServices(infra: Infra, core: Core, log: Logger, which: ("ingest" | "fanout" | "status")[]): Promise<Service[]> {
  const members = createMembershipCache({ metadata: core.metadata.store, bus: core.bus });
  const out: Service[] = [];
  for (const name of which) {
    const l = log.child({ app: name });
    if (name === "ingest") out.push(createIngestService({ events: core.events, sequencer: core.metadata.sequencer, messages: core.messages, log: l }));
    if (name === "fanout")
      out.push(
        createFanoutService({
          events: core.events,
          bus: core.bus,
          metadata: core.metadata.store,
          members,
          messages: core.messages,
          ephemeral: await infra.ephemeral(),
          log: l,
        }),
      );
    if (name === "status") out.push(createStatusService({ events: core.events, bus: core.bus, messages: core.messages, members, log: l }));
  }
  return out;
}

/** Metadata clients over an in-process Connect transport (the embedded process keeps the RPC boundary). */
export function metadataInProcess(metadata: Metadata): Metadata {
  const transport = createRouterTransport((router) => {
    router.service(MetadataService, createMetadataService(metadata.store));
    router.service(SequencerService, createSequencerService(metadata.sequencer));
  });
  return { store: createMetadataClient(transport), sequencer: createSequencerClient(transport) };
}
