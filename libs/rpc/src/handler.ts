import { type ConnectRouter, createConnectRouter, cors as connectCors, type Interceptor } from "@connectrpc/connect";
import {
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
  type UniversalHandler,
} from "@connectrpc/connect/protocol";
import { createErrorInterceptor, ERROR_CODE_HEADER, ERROR_KIND_HEADER, RETRY_AFTER_HEADER } from "./errors.ts";

/** Default bound on one request message: 4 MiB. */
export const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

/** Options of createConnectHandler. */
export interface ConnectHandlerOptions {
  /** Answer CORS preflights and add CORS headers for these origins ("*" = any). Off when absent. */
  cors?: { origins: string[]; allowHeaders?: string[]; maxAgeSec?: number };
  /** Bound on one request message in bytes (default 4 MiB); larger ones fail with ResourceExhausted. */
  readMaxBytes?: number;
  /** Interceptors run after the error translation (e.g. authentication). */
  interceptors?: Interceptor[];
  /** Send messages of non-domain errors to clients (internal services only); default false. */
  exposeInternalErrors?: boolean;
  /** Called with every non-domain error a handler raised. */
  onError?: (err: unknown, procedure: string) => void;
  /** Aborting it aborts the signals of every call in flight (graceful shutdown of streams). */
  shutdownSignal?: AbortSignal;
}

/**
 * A fetch-style handler serving the RPCs `register` adds, over the Connect and gRPC-web protocols
 * (unary and server-streaming, binary or JSON). Resolves to undefined when the path is not a
 * registered procedure, so callers can fall through to other routes. DomainErrors thrown by an
 * implementation reach clients as ConnectErrors carrying their kind and code (see toConnectError).
 */
export function createConnectHandler(
  register: (router: ConnectRouter) => void,
  opts: ConnectHandlerOptions = {},
): (req: Request) => Promise<Response | undefined> {
  const router = createConnectRouter({
    connect: true,
    grpcWeb: true,
    // Plain gRPC needs HTTP/2 trailers, which fetch-style servers cannot send.
    grpc: false,
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    interceptors: [
      createErrorInterceptor({ exposeInternal: opts.exposeInternalErrors, onError: opts.onError }),
      ...(opts.interceptors ?? []),
    ],
    shutdownSignal: opts.shutdownSignal,
  });
  register(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const h of router.handlers) handlers.set(h.requestPath, h);
  const cors = opts.cors ? corsHeaders(opts.cors) : undefined;

  return async (req) => {
    const handler = handlers.get(new URL(req.url).pathname);
    if (!handler) return undefined;
    const origin = req.headers.get("origin");
    if (cors && req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      return new Response(null, { status: 204, headers: cors.preflight(origin) });
    }
    const res = universalServerResponseToFetch(await handler(universalServerRequestFromFetch(req, {})));
    if (cors) for (const [k, v] of cors.actual(origin)) res.headers.set(k, v);
    return res;
  };
}

function corsHeaders(c: NonNullable<ConnectHandlerOptions["cors"]>) {
  const any = c.origins.includes("*");
  const allowed = new Set(c.origins);
  const allowOrigin = (origin: string | null): [string, string][] =>
    origin !== null && (any || allowed.has(origin)) ? [["access-control-allow-origin", origin]] : [];
  const allowHeaders = [...connectCors.allowedHeaders, "authorization", ...(c.allowHeaders ?? [])].join(", ");
  const exposeHeaders = [...connectCors.exposedHeaders, ERROR_KIND_HEADER, ERROR_CODE_HEADER, RETRY_AFTER_HEADER].join(", ");
  return {
    preflight: (origin: string | null): Headers => {
      const h = new Headers({ vary: "Origin" });
      const ao = allowOrigin(origin);
      if (ao.length === 0) return h;
      for (const [k, v] of ao) h.set(k, v);
      h.set("access-control-allow-methods", connectCors.allowedMethods.join(", "));
      h.set("access-control-allow-headers", allowHeaders);
      h.set("access-control-max-age", String(c.maxAgeSec ?? 7200));
      return h;
    },
    actual: (origin: string | null): [string, string][] => {
      const ao = allowOrigin(origin);
      if (ao.length === 0) return [["vary", "Origin"]];
      return [...ao, ["vary", "Origin"], ["access-control-expose-headers", exposeHeaders]];
    },
  };
}
