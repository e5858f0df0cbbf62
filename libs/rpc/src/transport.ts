import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

/** Options of createHttpTransport. */
export interface HttpTransportOptions {
  /** Default deadline of every call in ms (none when absent; streams usually want none). */
  timeoutMs?: number;
  /** Client interceptors (e.g. adding an Authorization header). */
  interceptors?: Interceptor[];
}

/**
 * A Connect transport (binary protobuf over fetch, HTTP/1.1) to the server at `baseUrl`, for
 * service-to-service calls. A server that cannot be reached fails the call with Code.Unavailable
 * (so clients report `unavailable`), an aborted call with Code.Canceled.
 */
export function createHttpTransport(baseUrl: string, opts: HttpTransportOptions = {}): Transport {
  const base = baseUrl.replace(/\/+$/, "");
  const fetchUnavailable: typeof fetch = Object.assign(
    async (input: RequestInfo | URL, init?: RequestInit) => {
      try {
        return await fetch(input, init);
      } catch (err) {
        if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) throw err;
        throw new ConnectError(`cannot reach ${base}: ${(err as Error)?.message ?? err}`, Code.Unavailable, undefined, undefined, err);
      }
    },
    { preconnect: fetch.preconnect },
  );
  return createConnectTransport({
    baseUrl: base,
    useBinaryFormat: true,
    fetch: fetchUnavailable,
    defaultTimeoutMs: opts.timeoutMs,
    interceptors: opts.interceptors,
  });
}
