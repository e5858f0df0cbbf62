import type { Logger, Service } from "@chat4all/kernel";

/** A listening HTTP server. */
export interface Listening {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:3201`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts a Bun server for a fetch handler at once (port 0 picks a free port); unhandled errors answer 500. */
export function listenHttp(opts: { port: number; hostname?: string; fetch: (req: Request) => Promise<Response> | Response; log?: Logger }): Listening {
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname ?? "127.0.0.1",
    fetch: opts.fetch,
    error(err) {
      opts.log?.error("unhandled server error", { err });
      return Response.json({ error: { code: "INTERNAL", message: "internal error" } }, { status: 500 });
    },
  });
  const port = server.port as number;
  return { url: `http://${server.hostname === "0.0.0.0" ? "127.0.0.1" : server.hostname}:${port}`, port, stop: () => server.stop(true) };
}

/** A Service that keeps already-listening servers up until the signal aborts, then stops them (and runs `onStop`). */
export function serversService(name: string, servers: Listening[], onStop?: () => void): Service {
  return {
    name,
    async run(signal) {
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
      onStop?.();
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
