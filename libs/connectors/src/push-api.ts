import * as v from "valibot";
import { ProviderError, postJson } from "./provider-api.ts";

/**
 * `POST /v1/notifications` of the (simulated) push provider: `Authorization: Bearer <api key>`,
 * body a PushNotification → 200 `{id, duplicate}`. Notifications are deduplicated by
 * (message_id, recipient): a repeat answers the first id with `duplicate: true`.
 */
export const PushNotification = v.object({
  /** The platform user to notify (devices are the provider's business). */
  recipient: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  message_id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  conversation_id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  sequence_number: v.pipe(v.number(), v.integer(), v.minValue(1)),
  sender_id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  title: v.pipe(v.string(), v.maxLength(200)),
  body: v.pipe(v.string(), v.maxLength(500)),
});
/** A push notification. */
export type PushNotification = v.InferOutput<typeof PushNotification>;

/** A client of the push provider. */
export interface PushClient {
  /** Sends one notification; throws ProviderError. */
  send(n: PushNotification): Promise<{ id: string; duplicate: boolean }>;
}

/** The HTTP client of the push provider at `baseUrl`. */
export function createPushClient(opts: { baseUrl: string; apiKey: string; timeoutMs?: number }): PushClient {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/v1/notifications`;
  return {
    async send(n) {
      const body = (await postJson(url, opts.apiKey, n, opts.timeoutMs ?? 5_000, "push send")) as { id?: unknown; duplicate?: unknown };
      if (typeof body?.id !== "string") throw new ProviderError(502, "push send: answer has no id");
      return { id: body.id, duplicate: body.duplicate === true };
    },
  };
}
