import { type ExternalChannel, SIGNATURE_HEADER } from "@chat4all/connectors";
import { Elysia } from "elysia";
import type { GatewayDeps } from "../../deps.ts";
import { type MessageIntake, createWebhookService } from "./service.ts";

/**
 * `POST /webhooks/whatsapp` and `POST /webhooks/instagram`: provider callbacks (inbound messages,
 * delivery and read statuses). The body is read raw (`parse: "none"`): the signature covers the
 * exact bytes, so it is checked before any parsing.
 */
export function webhooksModule(deps: GatewayDeps, messages: MessageIntake) {
  const service = createWebhookService(deps, messages);
  const receive = (channel: ExternalChannel) => async ({ request }: { request: Request }) =>
    service.receive(channel, await request.text(), request.headers.get(SIGNATURE_HEADER));
  const detail = (channel: string) => ({ tags: ["webhooks"], summary: `${channel} callbacks, signed with X-Hub-Signature-256` });
  return new Elysia({ prefix: "/webhooks" })
    .post("/whatsapp", receive("whatsapp"), { parse: "none", detail: detail("WhatsApp") })
    .post("/instagram", receive("instagram"), { parse: "none", detail: detail("Instagram") });
}
