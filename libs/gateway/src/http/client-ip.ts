import type { Server } from "bun";

/** The peer address of a request (the socket's, not a header a client could forge). */
export function clientIp(request: Request, server: Server<unknown> | null | undefined): string {
  return server?.requestIP(request)?.address ?? "unknown";
}
