import { describe, expect, test } from "bun:test";
import { type WebhookBody, createDeliveryMap, inboundMessageId, inboundWebhook, signBody, statusWebhook } from "@chat4all/connectors";
import { MemoryEphemeral } from "@chat4all/ephemeral";
import { type AppendRecord } from "@chat4all/eventlog";
import { TOPICS, decodeStatusEvent } from "@chat4all/events";
import { conflict, createLogger } from "@chat4all/kernel";
import { Elysia } from "elysia";
import type { GatewayDeps } from "../../deps.ts";
import { toHttpError } from "../../http/errors.ts";
import type { SendBody } from "../messages/model.ts";
import { webhooksModule } from "./index.ts";
import { createWebhookService } from "./service.ts";

const secrets = { whatsapp: "wa-webhook-secret-0123", instagram: "ig-webhook-secret-0123" };

/** Fake gateway deps: identities, memberships, an event log that records appends, a real in-memory Ephemeral. */
function fixture() {
  const identities = new Map<string, string>([
    ["whatsapp:+5511000000001", "u-bob"],
    ["whatsapp:+5511000000002", "u-carol"],
    ["instagram:bob.ig", "u-bob"],
  ]);
  const members = new Set(["c-1/u-bob", "c-1/u-alice", "c-2/u-bob", "c-2/u-alice", "c-3/u-carol"]);
  const appended: { topic: string; records: AppendRecord[] }[] = [];
  const sends: { userId: string; body: SendBody; origin: string }[] = [];
  const accepted = new Map<string, string>();
  const ephemeral = new MemoryEphemeral();
  const deps = {
    settings: { webhookSecrets: secrets },
    log: createLogger("silent"),
    metadata: { findUserByIdentity: async (channel: string, ext: string) => identities.get(`${channel}:${ext}`) ?? null },
    members: { roleOf: async (c: string, u: string) => (members.has(`${c}/${u}`) ? "member" : null) },
    events: { append: async (topic: string, records: AppendRecord[]) => void appended.push({ topic, records }) },
    ephemeral,
  } as unknown as GatewayDeps;
  // Like the real intake: one idempotency key belongs to one conversation and sender.
  const intake = {
    async send(userId: string, body: SendBody, origin: string) {
      const owner = accepted.get(body.idempotency_key);
      if (owner && owner !== `${body.conversation_id}/${userId}`) throw conflict("IDEMPOTENCY_KEY_REUSED", "reused");
      accepted.set(body.idempotency_key, `${body.conversation_id}/${userId}`);
      sends.push({ userId, body, origin });
      return { status: "queued" as const, message_id: body.idempotency_key, timestamp: new Date().toISOString() };
    },
  } as unknown as Parameters<typeof createWebhookService>[1];
  const map = createDeliveryMap(ephemeral);
  /** What a connector records when the provider accepted a send. */
  const sent = (providerId: string, d: { conversationId: string; seq: number; recipientId: string; externalId: string }, channel: "whatsapp" | "instagram" = "whatsapp") =>
    map.sent(channel, `m-${d.seq}:${d.recipientId}`, d.externalId, { ...d, messageId: `m-${d.seq}`, providerMessageId: providerId });
  const service = createWebhookService(deps, intake);
  const app = new Elysia()
    .onError(({ code, error, set }) => {
      const e = toHttpError(code, error);
      set.status = e.status;
      return e.body;
    })
    .use(webhooksModule(deps, intake));
  const post = async (path: string, raw: string, signature?: string) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (signature !== undefined) headers["x-hub-signature-256"] = signature;
    const res = await app.handle(new Request(`http://localhost${path}`, { method: "POST", headers, body: raw }));
    return { status: res.status, body: (await res.json()) as any };
  };
  return { deps, service, sends, appended, ephemeral, map, sent, post, members };
}

const at = 1_732_000_000_000;
const inbound = (from: string, id: string, text = "hi", replyTo?: string, channel: "whatsapp" | "instagram" = "whatsapp") =>
  inboundWebhook(channel, { businessId: "biz", from, id, text, at, replyTo });
const handle = (f: ReturnType<typeof fixture>, body: WebhookBody, channel: "whatsapp" | "instagram" = "whatsapp") => f.service.handle(channel, f.service.parse(channel, JSON.stringify(body)));

describe("webhook routing", () => {
  test("webhooks: a reply goes to the conversation of the message it answers, from the linked user, with the channel as origin", async () => {
    const f = fixture();
    await f.sent("wamid.c1", { conversationId: "c-1", seq: 4, recipientId: "u-bob", externalId: "+5511000000001" });
    await f.sent("wamid.c2", { conversationId: "c-2", seq: 9, recipientId: "u-bob", externalId: "+5511000000001" });
    const out = await handle(f, inbound("+5511000000001", "wamid.in1", "answer to c-1", "wamid.c1"));
    expect(out).toMatchObject({ accepted: 1, dropped: 0, duplicates: 0 });
    expect(f.sends).toHaveLength(1);
    const { userId, body, origin } = f.sends[0]!;
    expect({ userId, origin }).toEqual({ userId: "u-bob", origin: "whatsapp" });
    expect(body).toMatchObject({
      idempotency_key: inboundMessageId("whatsapp", "wamid.in1"),
      conversation_id: "c-1",
      message_type: "text",
      content: "answer to c-1",
      target_channels: ["delivery"],
      metadata: { origin: "whatsapp", provider_message_id: "wamid.in1", reply_to: "wamid.c1" },
    });
  });

  test("webhooks: without a reply context a message goes to the conversation the external user last interacted with", async () => {
    const f = fixture();
    await f.sent("wamid.c1", { conversationId: "c-1", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    await f.sent("wamid.c2", { conversationId: "c-2", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    await handle(f, inbound("+5511000000001", "wamid.a"));
    // A reply to the older conversation makes it the last one interacted with.
    await handle(f, inbound("+5511000000001", "wamid.b", "x", "wamid.c1"));
    await handle(f, inbound("+5511000000001", "wamid.c"));
    expect(f.sends.map((s) => s.body.conversation_id)).toEqual(["c-2", "c-1", "c-1"]);
  });

  test("webhooks: a reply to a message that went to someone else does not route into that conversation", async () => {
    const f = fixture();
    await f.sent("wamid.toBob", { conversationId: "c-1", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    const out = await handle(f, inbound("+5511000000002", "wamid.carol", "sneaky", "wamid.toBob"));
    expect(out).toMatchObject({ accepted: 0, dropped: 1 });
    await f.sent("wamid.toCarol", { conversationId: "c-3", seq: 1, recipientId: "u-carol", externalId: "+5511000000002" });
    await handle(f, inbound("+5511000000002", "wamid.carol2", "fine", "wamid.toBob"));
    expect(f.sends.map((s) => [s.userId, s.body.conversation_id])).toEqual([["u-carol", "c-3"]]);
  });

  test("webhooks: unknown senders, senders with no conversation, former members and unsupported types are acknowledged and dropped", async () => {
    const f = fixture();
    expect(await handle(f, inbound("+5599999999999", "wamid.stranger"))).toMatchObject({ accepted: 0, dropped: 1 });
    expect(await handle(f, inbound("+5511000000001", "wamid.nowhere"))).toMatchObject({ accepted: 0, dropped: 1 });
    await f.sent("wamid.c1", { conversationId: "c-1", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    f.members.delete("c-1/u-bob");
    expect(await handle(f, inbound("+5511000000001", "wamid.left"))).toMatchObject({ accepted: 0, dropped: 1 });
    f.members.add("c-1/u-bob");
    const image = inbound("+5511000000001", "wamid.img") as any;
    image.entry[0].changes[0].value.messages[0] = { from: "+5511000000001", id: "wamid.img", type: "image", image: { id: "media-1" } };
    expect(await handle(f, image)).toMatchObject({ accepted: 0, dropped: 1 });
    expect(f.sends).toHaveLength(0);
    expect(await handle(f, inbound("+5511000000001", "wamid.ok"))).toMatchObject({ accepted: 1, dropped: 0 });
  });

  test("webhooks: a repeated provider message id creates nothing new, also when routing moved meanwhile", async () => {
    const f = fixture();
    await f.sent("wamid.c1", { conversationId: "c-1", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    const body = inbound("+5511000000001", "wamid.same");
    expect((await handle(f, body)).accepted).toBe(1);
    expect(await handle(f, body)).toMatchObject({ accepted: 0, duplicates: 1 });
    // The intake's own idempotency catches a repeat whose first acceptance is not recorded here.
    await f.ephemeral.del("webhook:whatsapp:done:wamid.same");
    await f.sent("wamid.c2", { conversationId: "c-2", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    expect(await handle(f, body)).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(f.sends).toHaveLength(1);
    // The same provider id on another channel is another message.
    await f.sent("mid.c1", { conversationId: "c-1", seq: 2, recipientId: "u-bob", externalId: "bob.ig" }, "instagram");
    expect((await handle(f, inbound("bob.ig", "wamid.same", "hi", undefined, "instagram"), "instagram")).accepted).toBe(1);
    expect(f.sends[1]?.body.idempotency_key).not.toBe(f.sends[0]?.body.idempotency_key);
  });

  test("webhooks: delivered and read become receipts for the recipient up to the message's seq; sent, failed and unknown ids are not", async () => {
    const f = fixture();
    await f.sent("wamid.m7", { conversationId: "c-2", seq: 7, recipientId: "u-bob", externalId: "+5511000000001" });
    // A status that overtakes the send's answer resolves through its client_ref.
    await f.map.pending("whatsapp", "m-8:u-bob", { conversationId: "c-2", seq: 8, messageId: "m-8", recipientId: "u-bob" });
    const st = (id: string, status: "sent" | "delivered" | "read" | "failed", clientRef?: string) =>
      statusWebhook("whatsapp", { businessId: "biz", id, status, recipient: "+5511000000001", at, clientRef });
    const body = st("wamid.m7", "delivered") as any;
    body.entry[0].changes[0].value.statuses.push(
      ...[st("wamid.m7", "read"), st("wamid.m7", "sent"), st("wamid.m7", "failed"), st("wamid.unknown", "read"), st("wamid.m8", "delivered", "m-8:u-bob"), st("wamid.m9", "read", "m-8:u-bob")].map(
        (x: any) => x.entry[0].changes[0].value.statuses[0],
      ),
    );
    // wamid.m9 names m-8's client_ref, but m-8 is not known to be wamid.m9 — accepted by ref only while its provider id is unknown.
    const out = await handle(f, body);
    expect(out).toMatchObject({ statuses: 4, ignored: 2, dropped: 1 });
    expect(f.appended).toHaveLength(1);
    expect(f.appended[0]?.topic).toBe(TOPICS.messageStatus);
    const events = f.appended[0]!.records.map((r) => ({ key: r.key, ...decodeStatusEvent(r.value) }));
    expect(events.map((e) => [e.key, e.userId, e.status, e.upToSeq, e.messageId, e.source])).toEqual([
      ["c-2", "u-bob", "DELIVERED", 7, "m-7", "webhook:whatsapp"],
      ["c-2", "u-bob", "READ", 7, "m-7", "webhook:whatsapp"],
      ["c-2", "u-bob", "DELIVERED", 8, "m-8", "webhook:whatsapp"],
      ["c-2", "u-bob", "READ", 8, "m-8", "webhook:whatsapp"],
    ]);
    expect(events[0]?.at).toBe(at);
  });
});

describe("webhook endpoints", () => {
  const raw = (b: WebhookBody) => JSON.stringify(b);

  test("webhooks http: a missing, malformed or wrong X-Hub-Signature-256 is 401 INVALID_SIGNATURE and writes nothing", async () => {
    const f = fixture();
    await f.sent("wamid.c1", { conversationId: "c-1", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    const body = raw(inbound("+5511000000001", "wamid.forged"));
    for (const sig of [undefined, "", "sha256=abc", signBody("wrong-secret-0123456789", body), signBody(secrets.instagram, body), signBody(secrets.whatsapp, `${body} `)]) {
      const res = await f.post("/webhooks/whatsapp", body, sig);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: "INVALID_SIGNATURE", message: expect.any(String) } });
    }
    // Not even a body that fails to parse is looked at before the signature.
    expect((await f.post("/webhooks/whatsapp", "{not json", "sha256=00")).status).toBe(401);
    expect(f.sends).toHaveLength(0);
    expect(f.appended).toHaveLength(0);
  });

  test("webhooks http: the signature covers the exact raw bytes, so a body formatted any way is accepted as signed", async () => {
    const f = fixture();
    await f.sent("wamid.c1", { conversationId: "c-1", seq: 1, recipientId: "u-bob", externalId: "+5511000000001" });
    const pretty = JSON.stringify(inbound("+5511000000001", "wamid.pretty", "olá ✓"), null, 3);
    const res = await f.post("/webhooks/whatsapp", pretty, signBody(secrets.whatsapp, pretty));
    expect(res).toEqual({ status: 200, body: { status: "ok", accepted: 1, duplicates: 0, statuses: 0, dropped: 0, ignored: 0 } });
    expect(f.sends[0]?.body.content).toBe("olá ✓");
    const ig = raw(inbound("bob.ig", "mid.1", "hi", undefined, "instagram"));
    expect((await f.post("/webhooks/instagram", ig, signBody(secrets.instagram, ig))).status).toBe(200);
  });

  test("webhooks http: a signed body that is not JSON, not a webhook, or for the other channel is 400", async () => {
    const f = fixture();
    const cases: [string, string, string][] = [
      ["{not json", "whatsapp", "MALFORMED_BODY"],
      [JSON.stringify({ object: "whatsapp_business_account", entry: [] }), "whatsapp", "INVALID_REQUEST"],
      [JSON.stringify({ object: "whatsapp_business_account", entry: [{ changes: [{ field: "messages", value: { messages: [{ from: "has space", id: "x", type: "text" }] } }] }] }), "whatsapp", "INVALID_REQUEST"],
      [raw(inbound("+5511000000001", "wamid.x")), "instagram", "WRONG_CHANNEL"],
    ];
    for (const [body, channel, code] of cases) {
      const res = await f.post(`/webhooks/${channel}`, body, signBody(secrets[channel as "whatsapp" | "instagram"], body));
      expect([res.status, res.body.error?.code]).toEqual([400, code]);
    }
    expect(f.sends).toHaveLength(0);
  });
});
