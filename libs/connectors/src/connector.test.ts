import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { MemoryEphemeral } from "@chat4all/ephemeral";
import { type EventRecord, SqliteEventLog } from "@chat4all/eventlog";
import { type OutboundEvent, TOPICS, encodeOutbound, encodePush, topicSpecs } from "@chat4all/events";
import { type Service, type StoredMessage, createLogger } from "@chat4all/kernel";
import { createConnectorService } from "./connector.ts";
import { createDeliveryMap } from "./delivery-map.ts";
import { listenHttp } from "./http-server.ts";
import { clientRef } from "./ids.ts";
import { createNotifierService } from "./notifier.ts";
import { createProviderClient } from "./provider-api.ts";
import { createProviderSimulator } from "./provider-simulator.ts";
import { createPushClient } from "./push-api.ts";
import { createPushSimulator } from "./push-simulator.ts";
import { post, until } from "./test-helpers.ts";

for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const apiKey = "connector-test-key-0123";
const log = createLogger("silent");
const message = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  messageId: crypto.randomUUID(),
  conversationId: "c-1",
  senderId: "u-sender",
  type: "text",
  content: "hello",
  attachments: null,
  metadata: null,
  targetChannels: ["whatsapp"],
  createdAt: Date.now(),
  origin: "delivery",
  seq: 1,
  ...over,
});
const outbound = (m: StoredMessage, recipientId = "u-1", externalId = "+551100000001", channel: OutboundEvent["channel"] = "whatsapp") => ({
  key: recipientId,
  value: encodeOutbound({ message: m, recipientId, channel, externalId }),
});

/** A fresh embedded event log, a WhatsApp simulator over HTTP, and a way to run services. */
async function setup() {
  const events = new SqliteEventLog({ path: ":memory:", retryBaseMs: 20, pollMs: 50 });
  await events.ensureTopics(topicSpecs(2));
  const sim = createProviderSimulator({ channel: "whatsapp", webhookUrl: () => undefined, webhookSecret: "unused-secret-0000", apiKey, deliveredAfterMs: null, readAfterMs: null });
  const server = listenHttp({ port: 0, fetch: sim.fetch });
  const running: { ac: AbortController; done: Promise<void> }[] = [];
  const run = (svc: Service) => {
    const ac = new AbortController();
    running.push({ ac, done: svc.run(ac.signal) });
  };
  const dlq = async (topic: string): Promise<EventRecord[]> => {
    const got: EventRecord[] = [];
    const ac = new AbortController();
    const done = events.consume({ group: `dlq-${crypto.randomUUID()}`, topics: [`${topic}.dlq`], signal: ac.signal, handle: async (b) => void got.push(...b.records) });
    await Bun.sleep(150);
    ac.abort();
    await done;
    return got;
  };
  return {
    events,
    sim,
    url: server.url,
    run,
    dlq,
    async stop() {
      for (const r of running) r.ac.abort();
      await Promise.all(running.map((r) => r.done));
      sim.close();
      await server.stop();
      await events.close();
    },
  };
}

let env: Awaited<ReturnType<typeof setup>> | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

const connector = (e: NonNullable<typeof env>, ephemeral = new MemoryEphemeral(), over: { group?: string; attempts?: number } = {}) =>
  createConnectorService({
    channel: "whatsapp",
    events: e.events,
    ephemeral,
    provider: createProviderClient({ baseUrl: e.url, apiKey }),
    log,
    retryBaseMs: 5,
    ...over,
  });

describe("connector", () => {
  test("connector: sends each outbound message over HTTP in order and maps provider ids to conversation, seq and recipient", async () => {
    env = await setup();
    const ephemeral = new MemoryEphemeral();
    const m1 = message({ seq: 1, content: "first" });
    const m2 = message({ seq: 2, content: "second" });
    const m3 = message({ seq: 3, conversationId: "c-2", content: "file", type: "file", attachments: { file_key: "f/1", original_name: "a.pdf", content_type: "application/pdf" } });
    await env.events.append(TOPICS.whatsappOutbound, [outbound(m1), outbound(m2), outbound(m1, "u-2", "+551100000002"), outbound(m3)]);
    env.run(connector(env, ephemeral));
    const sent = await until(() => (env!.sim.sent().length >= 4 ? env!.sim.sent() : undefined));
    const toU1 = sent.filter((s) => s.to === "+551100000001");
    expect(toU1.map((s) => s.text ?? s.attachment?.caption)).toEqual(["first", "second", "file"]);
    expect(toU1[2]?.attachment).toMatchObject({ file_key: "f/1", filename: "a.pdf", mime_type: "application/pdf" });
    expect(sent.find((s) => s.to === "+551100000002")?.client_ref).toBe(clientRef(m1.messageId, "u-2"));
    const map = createDeliveryMap(ephemeral);
    const first = toU1[0]!;
    await until(() => map.byProviderId("whatsapp", toU1[2]!.message_id));
    expect(await map.byProviderId("whatsapp", first.message_id)).toEqual({
      conversationId: "c-1",
      seq: 1,
      messageId: m1.messageId,
      recipientId: "u-1",
      providerMessageId: first.message_id,
    });
    expect((await map.byRef("whatsapp", first.client_ref))?.providerMessageId).toBe(first.message_id);
    expect(await map.lastConversation("whatsapp", "+551100000001")).toBe("c-2");
  });

  test("connector: a redelivered event sends nothing new, even when the connector lost its own records", async () => {
    env = await setup();
    const m = message();
    await env.events.append(TOPICS.whatsappOutbound, [outbound(m), outbound(m)]);
    env.run(connector(env));
    await until(() => env!.sim.sent().length >= 1);
    // A second group replays the topic from the start with an empty Ephemeral: only the provider's dedup by client_ref stops it.
    let replayed = 0;
    const spy = createProviderClient({ baseUrl: env.url, apiKey });
    const fresh = new MemoryEphemeral();
    env.run(
      createConnectorService({
        channel: "whatsapp",
        events: env.events,
        ephemeral: fresh,
        provider: { send: (r) => (replayed++, spy.send(r)) },
        log,
        group: "replay",
      }),
    );
    const again = await until(() => createDeliveryMap(fresh).byRef("whatsapp", clientRef(m.messageId, "u-1")).then((d) => d?.providerMessageId));
    await Bun.sleep(100);
    expect(replayed).toBe(1);
    expect(env.sim.sent()).toHaveLength(1);
    expect(again).toBe(env.sim.sent()[0]!.message_id);
  });

  test("connector: transient provider failures are retried, and a provider that stays down gets the batch redelivered until it is sent", async () => {
    env = await setup();
    await post(`${env.url}/v1/simulate/fail`, { count: 7, status: 503 });
    await env.events.append(TOPICS.whatsappOutbound, [outbound(message({ content: "persistent" }))]);
    env.run(connector(env, new MemoryEphemeral(), { attempts: 3 }));
    const [sent] = await until(() => (env!.sim.sent().length > 0 ? env!.sim.sent() : undefined), 10_000);
    expect(sent?.text).toBe("persistent");
    expect(await env.dlq(TOPICS.whatsappOutbound)).toHaveLength(0);
  });

  test("connector: poison events and messages the provider refuses are dead-lettered with the reason, and the consumer moves on", async () => {
    env = await setup();
    await env.events.append(TOPICS.whatsappOutbound, [
      { key: "u-1", value: new TextEncoder().encode("not protobuf") },
      outbound(message({ content: "for instagram" }), "u-1", "ig.user", "instagram"),
      outbound(message({ content: "" })),
      outbound(message({ content: "still delivered" })),
    ]);
    env.run(connector(env));
    await until(() => env!.sim.sent().length >= 1);
    expect(env.sim.sent().map((s) => s.text)).toEqual(["still delivered"]);
    const dead = await until(async () => {
      const d = await env!.dlq(TOPICS.whatsappOutbound);
      return d.length >= 3 ? d : undefined;
    });
    const reasons = dead.map((r) => r.headers["x-dlq-reason"] ?? "");
    expect(reasons[0]).toMatch(/undecodable/);
    expect(reasons[1]).toMatch(/instagram on the whatsapp topic/);
    expect(reasons[2]).toMatch(/provider refused it: provider send: 400/);
  });
});

describe("notifier", () => {
  test("notifier: each push event becomes one notification; redelivered events and refused ones notify nobody twice", async () => {
    env = await setup();
    const push = createPushSimulator({ apiKey });
    const server = listenHttp({ port: 0, fetch: push.fetch });
    try {
      const m = message({ content: "x".repeat(300) });
      const file = message({ type: "file", attachments: { file_key: "k", original_name: "photo.png" } });
      await env.events.append(TOPICS.notificationPush, [
        { key: "u-1", value: encodePush({ message: m, recipientId: "u-1" }) },
        { key: "u-1", value: encodePush({ message: m, recipientId: "u-1" }) },
        { key: "u-2", value: encodePush({ message: file, recipientId: "u-2" }) },
        { key: "u-x", value: encodePush({ message: m, recipientId: "u".repeat(200) }) },
      ]);
      env.run(createNotifierService({ events: env.events, push: createPushClient({ baseUrl: server.url, apiKey }), log, retryBaseMs: 5 }));
      await until(() => push.notifications().length >= 2);
      const dead = await until(async () => {
        const d = await env!.dlq(TOPICS.notificationPush);
        return d.length >= 1 ? d : undefined;
      });
      expect(dead[0]?.headers["x-dlq-reason"]).toMatch(/push provider refused it/);
      const forU1 = push.notifications("u-1");
      expect(forU1).toHaveLength(1);
      expect(forU1[0]).toMatchObject({ message_id: m.messageId, conversation_id: "c-1", sequence_number: 1, sender_id: "u-sender", title: "New message" });
      expect(forU1[0]?.body.length).toBe(120);
      expect(push.notifications("u-2")[0]?.body).toBe("📎 photo.png");
      expect(push.notifications()).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });
});

afterAll(async () => {
  await env?.stop();
});
