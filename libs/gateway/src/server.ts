import type { Service } from "@chat4all/kernel";
import type { Server } from "bun";
import type { GatewayApp } from "./app.ts";
import type { GatewayDeps } from "./deps.ts";
import { errorBody } from "./http/errors.ts";
import { uploadBodyCeiling } from "./modules/files/settings.ts";
import type { Conn } from "./realtime/hub.ts";

/** Extra fetch-style handlers mounted before the REST app (Connect services, the local blob store). */
export type Mount = (req: Request) => Promise<Response | undefined> | Response | undefined;

/**
 * The gateway as a Service: one Bun server for REST, `/ws`, and the mounts. On abort it stops
 * accepting, closes sockets with 1012, and waits for in-flight requests.
 */
export function createGatewayServer(
  deps: GatewayDeps,
  gateway: GatewayApp,
  opts: { port: number; hostname?: string; mounts?: Mount[]; onListen?: (url: string) => void },
): Service & { url(): string | undefined } {
  let server: Server<Conn> | undefined;
  return {
    name: "gateway",
    url: () => server?.url.toString(),
    async run(signal) {
      server = Bun.serve<Conn>({
        port: opts.port,
        hostname: opts.hostname ?? "0.0.0.0",
        // An embedded file store takes uploads on this server too: room for a whole file or one part.
        maxRequestBodySize: Math.max(Math.max(deps.settings.maxBodyBytes, 1024 * 1024) * 2, deps.blobs?.handle ? uploadBodyCeiling(deps.settings.files) : 0),
        idleTimeout: 60,
        async fetch(req, srv) {
          const path = req.url.slice(req.url.indexOf("/", 8));
          if (path === "/ws" || path.startsWith("/ws?")) return gateway.hub.upgrade(req, srv);
          if (path.startsWith("/chat4all.v1.ChatService/")) {
            // Streams may stay quiet for long: no idle timeout for Subscribe.
            if (path.startsWith("/chat4all.v1.ChatService/Subscribe")) srv.timeout(req, 0);
            const res = await gateway.connect(req);
            if (res) return res;
          }
          for (const mount of opts.mounts ?? []) {
            const res = await mount(req);
            if (res) return res;
          }
          return gateway.app.handle(req);
        },
        websocket: gateway.hub.websocket,
        error(err) {
          deps.log.error("unhandled server error", { err });
          return Response.json(errorBody("INTERNAL", "internal error"), { status: 500 });
        },
      });
      gateway.hub.setServer(server);
      opts.onListen?.(server.url.toString());
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      gateway.hub.drain();
      await server.stop(false);
      gateway.hub.close();
    },
  };
}
