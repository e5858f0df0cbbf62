import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenHttp } from "./http-server.ts";
import { type ProviderSimulatorOptions, createProviderSimulator } from "./provider-simulator.ts";
import { createPushSimulator } from "./push-simulator.ts";
import { post, until, webhookReceiver } from "./test-helpers.ts";

for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const secret = "sim-webhook-secret-0123";
const apiKey = "sim-api-key-0123456789";
const auth = { authorization: `Bearer ${apiKey}` };

function simulator(webhookUrl: string, over: Partial<ProviderSimulatorOptions> = {}) {
  const sim = createProviderSimulator({ channel: "whatsapp", webhookUrl, webhookSecret: secret, apiKey, deliveredAfterMs: null, readAfterMs: null, ...over });
  const server = listenHttp({ port: 0, fetch: sim.fetch });
  return { sim, url: server.url, stop: () => (sim.close(), server.stop()) };
}

describe("provider simulator", () => {
  const receiver = webhookReceiver(secret);
  afterAll(() => receiver.stop());

  test("provider simulator: a send needs the API key and exactly one of text and attachment", async () => {
    const s = simulator(receiver.url);
    expect((await post(`${s.url}/v1/messages`, { to: "+5511", text: "hi", client_ref: "r1" })).status).toBe(401);
    expect((await post(`${s.url}/v1/messages`, { to: "+5511", text: "hi", client_ref: "r1" }, { authorization: "Bearer nope" })).status).toBe(401);
    expect((await post(`${s.url}/v1/messages`, { to: "+5511", client_ref: "r1" }, auth)).status).toBe(400);
    expect((await post(`${s.url}/v1/messages`, { to: "+5511", text: "hi", attachment: { file_key: "k" }, client_ref: "r1" }, auth)).status).toBe(400);
    expect((await post(`${s.url}/v1/messages`, { to: "not a phone", text: "hi", client_ref: "r1" }, auth)).status).toBe(400);
    const ok = await post(`${s.url}/v1/messages`, { to: "+5511", text: "hi", client_ref: "r1" }, auth);
    expect(ok.status).toBe(200);
    expect(ok.body.message_id).toMatch(/^wamid\./);
    const file = await post(`${s.url}/v1/messages`, { to: "+5511", attachment: { file_key: "k", filename: "a.pdf" }, client_ref: "r2" }, auth);
    expect(file.status).toBe(200);
    expect(s.sim.sent().map((m) => m.client_ref)).toEqual(["r1", "r2"]);
    await s.stop();
  });

  test("provider simulator: a repeated client_ref answers the first message id and sends no second webhook", async () => {
    const r = webhookReceiver(secret);
    const s = simulator(r.url, { deliveredAfterMs: 5 });
    const first = await post(`${s.url}/v1/messages`, { to: "+5522", text: "once", client_ref: "dup" }, auth);
    const again = await post(`${s.url}/v1/messages`, { to: "+5522", text: "once", client_ref: "dup" }, auth);
    expect(again.body).toEqual({ message_id: first.body.message_id, duplicate: true });
    await until(() => r.received.length >= 1);
    await Bun.sleep(50);
    expect(r.received).toHaveLength(1);
    const listed = await (await fetch(`${s.url}/v1/messages?client_ref=dup`)).json();
    expect(listed).toHaveLength(1);
    await s.stop();
    await r.stop();
  });

  test("provider simulator: delivered then read webhooks, signed over the raw body, carry the provider id and client_ref", async () => {
    const r = webhookReceiver(secret);
    const s = simulator(r.url, { deliveredAfterMs: 10, readAfterMs: 40 });
    const sent = await post(`${s.url}/v1/messages`, { to: "+5533", text: "hello", client_ref: "m1:u1" }, auth);
    await until(() => r.received.length >= 2);
    expect(r.received.every((w) => w.signed)).toBe(true);
    const statuses = r.received.map((w) => w.payload?.entry[0]?.changes[0]?.value.statuses?.[0]);
    expect(statuses.map((st) => st?.status)).toEqual(["delivered", "read"]);
    for (const st of statuses) expect(st).toMatchObject({ id: sent.body.message_id, recipient_id: "+5533", client_ref: "m1:u1" });
    expect(r.received[0]?.payload?.object).toBe("whatsapp_business_account");
    // The simulator records a webhook's answer once the webhook call returns: wait for both records.
    let listed: any;
    await until(async () => {
      [listed] = await (await fetch(`${s.url}/v1/messages?to=%2B5533`)).json();
      return listed.statuses.filter((x: any) => x.webhook_status !== undefined && x.webhook_status !== null).length >= 2;
    });
    expect(listed.statuses.map((x: any) => [x.status, x.webhook_status])).toEqual([["delivered", 200], ["read", 200]]);
    await s.stop();
    await r.stop();
  });

  test("provider simulator: simulate/inbound posts a signed inbound message (a reply with reply_to) and reports the webhook's answer", async () => {
    const r = webhookReceiver(secret, () => 202);
    const s = simulator(r.url);
    const res = await post(`${s.url}/v1/simulate/inbound`, { from: "+5544", text: "hi back", reply_to: "wamid.X" });
    expect(res.status).toBe(200);
    expect(res.body.webhook_status).toBe(202);
    expect(r.received[0]?.signed).toBe(true);
    const m = r.received[0]?.payload?.entry[0]?.changes[0]?.value.messages?.[0];
    expect(m).toMatchObject({ from: "+5544", id: res.body.message_id, type: "text", text: { body: "hi back" }, context: { id: "wamid.X" } });
    expect(typeof m?.timestamp).toBe("number");
    const fixed = await post(`${s.url}/v1/simulate/inbound`, { from: "+5544", text: "again", id: "wamid.fixed" });
    expect(fixed.body.message_id).toBe("wamid.fixed");
    expect(r.received[1]?.payload?.entry[0]?.changes[0]?.value.messages?.[0]?.context).toBeUndefined();
    expect((await post(`${s.url}/v1/simulate/inbound`, { from: "+5544" })).status).toBe(400);
    await s.stop();
    await r.stop();
  });

  test("provider simulator: webhooks answered 5xx or 429 are retried with backoff, 4xx are not", async () => {
    const flaky = webhookReceiver(secret, (n) => (n <= 2 ? 503 : 200));
    const s1 = simulator(flaky.url);
    expect((await post(`${s1.url}/v1/simulate/inbound`, { from: "+1", text: "x" })).body.webhook_status).toBe(200);
    expect(flaky.received).toHaveLength(3);
    const refusing = webhookReceiver(secret, () => 401);
    const s2 = simulator(refusing.url);
    expect((await post(`${s2.url}/v1/simulate/inbound`, { from: "+1", text: "x" })).body.webhook_status).toBe(401);
    expect(refusing.received).toHaveLength(1);
    for (const x of [s1, s2, flaky, refusing]) await x.stop();
  });

  test("provider simulator: simulate/fail answers the next sends with the given status, then recovers", async () => {
    const s = simulator(receiver.url);
    expect((await post(`${s.url}/v1/simulate/fail`, { count: 2, status: 502 })).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(`${s.url}/v1/messages`, { to: "+1", text: "x", client_ref: "f" }, auth)).status);
    expect(statuses).toEqual([502, 502, 200]);
    expect(s.sim.sent()).toHaveLength(1);
    await s.stop();
  });
});

describe("push simulator", () => {
  const push = createPushSimulator({ apiKey });
  let url = "";
  let stop = async () => {};
  beforeAll(() => {
    const server = listenHttp({ port: 0, fetch: push.fetch });
    url = server.url;
    stop = server.stop;
  });
  afterAll(() => stop());
  const n = (over: object = {}) => ({ recipient: "u-1", message_id: "m-1", conversation_id: "c-1", sequence_number: 1, sender_id: "u-2", title: "New message", body: "hi", ...over });

  test("push simulator: records notifications once per (message, recipient), behind the API key", async () => {
    expect((await post(`${url}/v1/notifications`, n())).status).toBe(401);
    expect((await post(`${url}/v1/notifications`, n({ sequence_number: 0 }), auth)).status).toBe(400);
    const first = await post(`${url}/v1/notifications`, n(), auth);
    expect(first.body.duplicate).toBe(false);
    expect((await post(`${url}/v1/notifications`, n({ body: "changed" }), auth)).body).toEqual({ id: first.body.id, duplicate: true });
    expect((await post(`${url}/v1/notifications`, n({ recipient: "u-3" }), auth)).body.duplicate).toBe(false);
    const forU1 = await (await fetch(`${url}/v1/notifications?recipient=u-1`)).json();
    expect(forU1).toHaveLength(1);
    expect(forU1[0]).toMatchObject({ recipient: "u-1", message_id: "m-1", body: "hi" });
    expect(push.notifications()).toHaveLength(2);
  });
});
