import { createLogger, createMetrics, unavailable } from "@chat4all/kernel";
import { openapi } from "@elysiajs/openapi";
import { toJsonSchema } from "@valibot/to-json-schema";
import { Elysia } from "elysia";
import type { GatewayDeps } from "./deps.ts";
import { errorBody, toHttpError } from "./http/errors.ts";
import { authModule } from "./modules/auth/index.ts";
import { conversationsModule } from "./modules/conversations/index.ts";
import { createConversationService } from "./modules/conversations/service.ts";
import { filesModule } from "./modules/files/index.ts";
import { messagesModule } from "./modules/messages/index.ts";
import { createMessageService } from "./modules/messages/service.ts";
import { usersModule } from "./modules/users/index.ts";
import { webhooksModule } from "./modules/webhooks/index.ts";
import { createHub } from "./realtime/hub.ts";
import { createChatService } from "./connect/chat-service.ts";
import { ChatService } from "@chat4all/proto/chat4all/v1/chat_pb";
import { createConnectHandler } from "@chat4all/rpc";

/**
 * The gateway's HTTP application (REST routes of API.md, health) plus its WebSocket hub.
 * Transport-free: `app.handle(request)` serves a Request; `server.ts` binds it to a port.
 */
export function createGatewayApp(input: GatewayDeps) {
  const log = input.log ?? createLogger();
  // An event log that cannot take an append is a 503 for the client (retry), never a 500.
  const events = input.events;
  const deps: GatewayDeps = {
    ...input,
    events: {
      append: (topic, records) =>
        events.append(topic, records).catch((err) => {
          throw unavailable("EVENT_LOG_UNAVAILABLE", "the message log is not reachable; retry shortly", err);
        }),
      ensureTopics: (t) => events.ensureTopics(t),
      consume: (o) => events.consume(o),
      deadLetter: (r, reason) => events.deadLetter(r, reason),
      healthy: () => events.healthy(),
      close: () => events.close(),
    },
  };
  deps.metrics ??= createMetrics();
  const metrics = deps.metrics;
  const countRequest = metrics.counter("http_requests_total", "HTTP requests by method and status.");
  const observeLatency = metrics.histogram("http_request_duration_seconds", "HTTP request latency.", [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]);
  const started = new WeakMap<Request, number>();
  const conversations = createConversationService(deps);
  const messages = createMessageService(deps, conversations);
  const hub = createHub(deps, messages);

  const app = new Elysia()
    .onError(({ code, error, set, request }) => {
      const e = toHttpError(code, error);
      if (e.status >= 500) log.error("request failed", { method: request.method, path: new URL(request.url).pathname, err: error });
      set.status = e.status;
      if (e.headers) Object.assign(set.headers, e.headers);
      return e.body;
    })
    .onRequest(({ request, set }) => {
      started.set(request, performance.now());
      const len = Number(request.headers.get("content-length") ?? 0);
      if (len > deps.settings.maxBodyBytes) {
        set.status = 413;
        return errorBody("BODY_TOO_LARGE", `request bodies are limited to ${deps.settings.maxBodyBytes} bytes`);
      }
    })
    .use(
      openapi({
        path: "/docs",
        documentation: { info: { title: "Chat4All API", version: "1.0.0", description: "REST contract of API.md; WebSocket: docs/websocket-protocol.md" } },
        mapJsonSchema: { valibot: (schema: Parameters<typeof toJsonSchema>[0]) => toJsonSchema(schema, { errorMode: "ignore" }) },
        exclude: { paths: ["/docs", "/docs/json"] },
      }),
    )
    .onAfterResponse(({ request, set }) => {
      const status = String(set.status ?? 200);
      countRequest({ method: request.method, status });
      const t0 = started.get(request);
      if (t0 !== undefined) observeLatency((performance.now() - t0) / 1000);
    })
    .get("/metrics", ({ set }) => {
      set.headers["content-type"] = "text/plain; version=0.0.4";
      return metrics.render();
    })
    .get("/health", () => ({ status: "ok" }))
    .get("/ready", async ({ set }) => {
      const checks = await readiness(deps);
      const ok = Object.values(checks).every(Boolean);
      set.status = ok ? 200 : 503;
      return { status: ok ? "ready" : "not_ready", checks };
    })
    .use(authModule(deps))
    .use(usersModule(deps))
    .use(conversationsModule(deps, conversations))
    .use(messagesModule(deps, messages))
    .use(filesModule(deps))
    .use(webhooksModule(deps, messages));

  const connect = createConnectHandler((router) => router.service(ChatService, createChatService(deps, { messages, conversations, hub })), {
    cors: deps.settings.corsOrigins.length > 0 ? { origins: deps.settings.corsOrigins } : undefined,
    readMaxBytes: deps.settings.maxBodyBytes,
    onError: (err, procedure) => log.error("rpc failed", { procedure, err }),
  });

  return { app, hub, messages, conversations, connect };
}

/** Readiness of every dependency, each bounded in time. */
async function readiness(deps: GatewayDeps): Promise<Record<string, boolean>> {
  const within = (p: Promise<boolean>) =>
    Promise.race([p.catch(() => false), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
  const [events, metadata, messages, ephemeral] = await Promise.all([
    within(deps.events.healthy()),
    within(deps.metadata.healthy()),
    within(deps.messages.healthy()),
    within(deps.ephemeral.healthy()),
  ]);
  return { events, metadata, messages, ephemeral, bus: deps.bus.healthy() };
}

/** The gateway application. */
export type GatewayApp = ReturnType<typeof createGatewayApp>;
