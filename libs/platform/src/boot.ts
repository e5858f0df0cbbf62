/**
 * A placeholder server on the app's port while its dependencies are still being reached: `/health`
 * answers 200 (the process is alive), `/ready` and everything else 503, so orchestrators and load
 * balancers see "not ready" instead of a refused connection or a crash loop.
 */
export function startBootServer(hostname: string, port: number): { stop(): Promise<void> } {
  const body = (code: string) => JSON.stringify({ error: { code, message: "the service is starting; retry shortly" } });
  const server = Bun.serve({
    hostname,
    port,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/health") return Response.json({ status: "starting" });
      if (path === "/ready") return Response.json({ status: "not_ready", reason: "starting" }, { status: 503 });
      return new Response(body("STARTING"), { status: 503, headers: { "content-type": "application/json", "retry-after": "1" } });
    },
  });
  return { stop: () => server.stop(true) };
}
