import * as v from "valibot";
import { ExternalId } from "./webhook-payload.ts";

/**
 * `POST /v1/messages` of a (simulated) provider, modelled loosely on the WhatsApp Cloud API:
 * `Authorization: Bearer <api key>`, body `{to, text | attachment, client_ref}` → 200
 * `{message_id}`. A repeated `client_ref` answers the first send's `message_id` and sends nothing.
 */
export const SendRequest = v.pipe(
  v.object({
    to: ExternalId,
    text: v.optional(v.pipe(v.string(), v.minLength(1, "text is empty"), v.maxLength(16_384))),
    attachment: v.optional(
      v.object({
        file_key: v.optional(v.pipe(v.string(), v.maxLength(512))),
        url: v.optional(v.pipe(v.string(), v.maxLength(2048))),
        filename: v.optional(v.pipe(v.string(), v.maxLength(256))),
        mime_type: v.optional(v.pipe(v.string(), v.maxLength(128))),
        caption: v.optional(v.pipe(v.string(), v.maxLength(4096))),
      }),
    ),
    client_ref: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  }),
  v.check((b) => (b.text === undefined) !== (b.attachment === undefined), "exactly one of text and attachment"),
);
/** A send request. */
export type SendRequest = v.InferOutput<typeof SendRequest>;

/** A provider answered with an error (or could not be reached: `status` 0). */
export class ProviderError extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ProviderError";
  }
  /**
   * True when sending the same request again cannot succeed (a 4xx about the request itself).
   * Unreachable, 5xx, 408, 425, 429 and credentials errors (401/403: a configuration problem that an
   * operator fixes) are worth retrying.
   */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && ![401, 403, 408, 425, 429].includes(this.status);
  }
}

/** True for errors worth retrying (anything but a permanent ProviderError). */
export const isTransient = (err: unknown) => !(err instanceof ProviderError && err.permanent);

/** POSTs JSON with a bearer key and a timeout; returns the parsed JSON of a 2xx, throws ProviderError otherwise. */
export async function postJson(url: string, apiKey: string, body: unknown, timeoutMs: number, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new ProviderError(0, `${what}: ${url} unreachable (${(cause as Error)?.message ?? cause})`, { cause });
  }
  const text = await res.text().catch(() => "");
  if (!res.ok) throw new ProviderError(res.status, `${what}: ${res.status} ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ProviderError(502, `${what}: answer is not JSON`, { cause });
  }
}

/** A client of a provider's messaging API. */
export interface ProviderClient {
  /** Sends one message; resolves with the provider's message id. Throws ProviderError. */
  send(req: SendRequest): Promise<{ messageId: string }>;
}

/** The HTTP client of a provider at `baseUrl` (e.g. the WhatsApp simulator). */
export function createProviderClient(opts: { baseUrl: string; apiKey: string; timeoutMs?: number }): ProviderClient {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/v1/messages`;
  return {
    async send(req) {
      const body = (await postJson(url, opts.apiKey, req, opts.timeoutMs ?? 5_000, "provider send")) as { message_id?: unknown };
      if (typeof body?.message_id !== "string" || body.message_id.length === 0) throw new ProviderError(502, "provider send: answer has no message_id");
      return { messageId: body.message_id };
    },
  };
}
