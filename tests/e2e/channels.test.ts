// External channels on the embedded platform, end to end over real HTTP: the platform's connectors call the
// WhatsApp / Instagram / push simulators, and the simulators call the platform's signed webhooks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { phone, pushesFor, sentTo, sign, simulateInbound, waitSent, whatsappInbound, type SimulatorUrls } from "../support/channels.ts";
import { call, eventually, newUser, openSocket } from "../support/client.ts";
import { type Platform, freePort, removeData, startEmbedded } from "../support/embedded.ts";

const WHATSAPP_SECRET = "e2e-whatsapp-webhook-secret";
let p: Platform;
let sims: SimulatorUrls;
beforeAll(async () => {
  const [wa, ig, push] = [freePort(), freePort(), freePort()];
  sims = { whatsapp: `http://127.0.0.1:${wa}`, instagram: `http://127.0.0.1:${ig}`, push: `http://127.0.0.1:${push}` };
  p = await startEmbedded({
    C4A_WHATSAPP_SIM_PORT: String(wa),
    C4A_INSTAGRAM_SIM_PORT: String(ig),
    C4A_PUSH_SIM_PORT: String(push),
    C4A_WHATSAPP_WEBHOOK_SECRET: WHATSAPP_SECRET,
    C4A_SIM_DELIVERED_AFTER_MS: "200",
    C4A_SIM_READ_AFTER_MS: "600",
  });
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

type User = Awaited<ReturnType<typeof newUser>>;
const send = (u: User, conversationId: string, content: string, target_channels?: string[]) =>
  call(p.url, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content, target_channels } });
const link = async (u: User, channel: string, external_id: string) =>
  expect((await call(p.url, "POST", "/v1/users/me/identities", { token: u.token, body: { channel, external_id } })).status).toBe(201);
const history = async (u: User, conversationId: string): Promise<any[]> =>
  (await call(p.url, "GET", `/v1/messages/${conversationId}?limit=100`, { token: u.token })).body;

/** Alice and Bob in a private conversation; Bob linked a WhatsApp number. */
async function pair() {
  const alice = await newUser(p.url, "alice");
  const bob = await newUser(p.url, "bob");
  const bobPhone = phone();
  await link(bob, "whatsapp", bobPhone);
  const conversationId = (await call(p.url, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } })).body.conversation_id as string;
  return { alice, bob, bobPhone, conversationId };
}

describe("external channels (embedded)", () => {
  test("channels: a WhatsApp-only message reaches the WhatsApp provider and never the recipient's socket; its statuses come back to the sender", async () => {
    const { alice, bob, bobPhone, conversationId } = await pair();
    const bobWs = await openSocket(p.url, bob.token);
    const aliceWs = await openSocket(p.url, alice.token);
    const wa = await send(alice, conversationId, "only on whatsapp", ["whatsapp"]);
    expect(wa.status).toBe(202);
    const later = await send(alice, conversationId, "on the socket");
    // Fanout keeps per-conversation order: once the later message is on the socket, the first would have been too.
    await bobWs.next((f) => f.type === "MESSAGE" && f.message_id === later.body.message_id);
    expect(bobWs.frames.filter((f) => f.message_id === wa.body.message_id)).toEqual([]);

    const atProvider = await waitSent(sims.whatsapp, bobPhone, wa.body.message_id);
    expect(atProvider).toMatchObject({ to: bobPhone, text: "only on whatsapp", client_ref: `${wa.body.message_id}:${bob.id}` });
    expect(atProvider.message_id).toMatch(/^wamid\./);
    expect(await sentTo(sims.whatsapp, bobPhone)).toHaveLength(1);

    // The simulator's delivered and read webhooks become receipts of Bob's, pushed to Alice.
    const delivered = await aliceWs.next((f) => f.type === "STATUS_UPDATE" && f.status === "DELIVERED", 10_000);
    expect(delivered).toMatchObject({ conversation_id: conversationId, message_id: wa.body.message_id, sequence_number: 1, read_by: bob.id });
    const read = await aliceWs.next((f) => f.type === "STATUS_UPDATE" && f.status === "READ", 10_000);
    expect(read).toMatchObject({ conversation_id: conversationId, message_id: wa.body.message_id, sequence_number: 1, read_by: bob.id });
    await eventually(async () => (await history(alice, conversationId)).find((m) => m.message_id === wa.body.message_id)?.status === "READ");
    bobWs.close();
    aliceWs.close();
  }, 30_000);

  test("channels: `all` reaches every channel each recipient linked, plus the platform's clients", async () => {
    const dave = await newUser(p.url, "dave");
    const carol = await newUser(p.url, "carol");
    const erin = await newUser(p.url, "erin");
    const carolPhone = phone();
    const carolIg = `carol.${crypto.randomUUID().slice(0, 8)}`;
    await link(carol, "whatsapp", carolPhone);
    await link(carol, "instagram", carolIg);
    const conversationId = (await call(p.url, "POST", "/v1/conversations", { token: dave.token, body: { type: "group", members: [carol.id, erin.id] } })).body.conversation_id;
    const carolWs = await openSocket(p.url, carol.token);
    const erinWs = await openSocket(p.url, erin.token);
    const all = await send(dave, conversationId, "everywhere", ["all"]);
    expect(all.status).toBe(202);
    expect(await carolWs.next((f) => f.type === "MESSAGE")).toMatchObject({ message_id: all.body.message_id, target_channels: ["all"] });
    expect(await erinWs.next((f) => f.type === "MESSAGE")).toMatchObject({ message_id: all.body.message_id });
    expect(await waitSent(sims.whatsapp, carolPhone, all.body.message_id)).toMatchObject({ text: "everywhere", client_ref: `${all.body.message_id}:${carol.id}` });
    expect(await waitSent(sims.instagram, carolIg, all.body.message_id)).toMatchObject({ text: "everywhere" });
    expect((await waitSent(sims.instagram, carolIg, all.body.message_id)).message_id).toMatch(/^mid\./);
    // Erin linked nothing: the providers got exactly Carol's two copies.
    const refs = (await call(sims.whatsapp, "GET", "/v1/messages")).body.filter((m: any) => m.client_ref.startsWith(all.body.message_id));
    expect(refs).toHaveLength(1);
    carolWs.close();
    erinWs.close();
  }, 30_000);

  test("channels: a reply sent through the WhatsApp simulator lands in the conversation with origin whatsapp and reaches the other member's socket", async () => {
    const { alice, bob, bobPhone, conversationId } = await pair();
    const out = await send(alice, conversationId, "question?", ["whatsapp"]);
    const atProvider = await waitSent(sims.whatsapp, bobPhone, out.body.message_id);
    const aliceWs = await openSocket(p.url, alice.token);
    const reply = await simulateInbound(sims.whatsapp, { from: bobPhone, text: "answer!", reply_to: atProvider.message_id });
    expect(reply.body.webhook_status).toBe(200);
    const frame = await aliceWs.next((f) => f.type === "MESSAGE" && f.content === "answer!", 10_000);
    expect(frame).toMatchObject({ conversation_id: conversationId, sender_id: bob.id, sequence_number: 2, target_channels: ["delivery"] });
    const h = await history(alice, conversationId);
    expect(h[0]).toMatchObject({ message_id: frame.message_id, sender_id: bob.id, content: "answer!", metadata: { origin: "whatsapp", provider_message_id: reply.body.message_id } });
    // A message that came from WhatsApp is not echoed back to WhatsApp.
    expect(await sentTo(sims.whatsapp, bobPhone)).toHaveLength(1);
    // A follow-up without reply context goes to the conversation Bob last interacted with.
    await simulateInbound(sims.whatsapp, { from: bobPhone, text: "and more" });
    await aliceWs.next((f) => f.type === "MESSAGE" && f.content === "and more", 10_000);
    aliceWs.close();
  }, 30_000);

  test("channels: a webhook with a missing or wrong signature is refused with 401 and writes nothing", async () => {
    const { alice, bobPhone, conversationId } = await pair();
    await waitSent(sims.whatsapp, bobPhone, (await send(alice, conversationId, "hello", ["whatsapp"])).body.message_id);
    const id = `wamid.${crypto.randomUUID()}`;
    const raw = JSON.stringify(whatsappInbound(bobPhone, id, "forged"));
    for (const signature of [undefined, sign("not-the-secret", raw), sign(WHATSAPP_SECRET, `${raw}\n`)]) {
      const r = await call(p.url, "POST", "/webhooks/whatsapp", { raw, headers: signature ? { "x-hub-signature-256": signature } : {} });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("INVALID_SIGNATURE");
    }
    // The same message correctly signed is accepted: the refusals were about the signature alone.
    const genuine = JSON.stringify(whatsappInbound(bobPhone, id, "genuine"));
    const ok = await call(p.url, "POST", "/webhooks/whatsapp", { raw: genuine, headers: { "x-hub-signature-256": sign(WHATSAPP_SECRET, genuine) } });
    expect(ok.status).toBe(200);
    expect(ok.body.accepted).toBe(1);
    const h = await eventually(async () => {
      const list = await history(alice, conversationId);
      return list.some((m) => m.content === "genuine") ? list : undefined;
    });
    expect(h.map((m) => m.content)).toEqual(["genuine", "hello"]);
  }, 30_000);

  test("channels: a repeated provider message id creates one message", async () => {
    const { alice, bobPhone, conversationId } = await pair();
    await waitSent(sims.whatsapp, bobPhone, (await send(alice, conversationId, "hi", ["whatsapp"])).body.message_id);
    const id = `wamid.repeat-${crypto.randomUUID()}`;
    for (let i = 0; i < 3; i++) expect((await simulateInbound(sims.whatsapp, { from: bobPhone, text: "just once", id })).body.webhook_status).toBe(200);
    await simulateInbound(sims.whatsapp, { from: bobPhone, text: "after" });
    const h = await eventually(async () => {
      const list = await history(alice, conversationId);
      return list.some((m) => m.content === "after") ? list : undefined;
    });
    expect(h.map((m) => [m.sequence_number, m.content])).toEqual([[3, "after"], [2, "just once"], [1, "hi"]]);
  }, 30_000);

  test("channels: an offline recipient gets a push notification, an online one does not", async () => {
    const henry = await newUser(p.url, "henry");
    const frank = await newUser(p.url, "frank");
    const gina = await newUser(p.url, "gina");
    const conversationId = (await call(p.url, "POST", "/v1/conversations", { token: henry.token, body: { type: "group", members: [frank.id, gina.id] } })).body.conversation_id;
    const frankWs = await openSocket(p.url, frank.token);
    await Bun.sleep(100);
    const m = await send(henry, conversationId, "anyone there?");
    await frankWs.next((f) => f.type === "MESSAGE" && f.message_id === m.body.message_id);
    const [pushed] = await eventually(async () => {
      const list = await pushesFor(sims.push, gina.id);
      return list.length > 0 ? list : undefined;
    });
    expect(pushed).toMatchObject({ recipient: gina.id, message_id: m.body.message_id, conversation_id: conversationId, sequence_number: 1, sender_id: henry.id, body: "anyone there?" });
    // Frank's and Gina's push events come from the same fanout batch: Gina's arrived, so Frank's would have.
    await Bun.sleep(200);
    expect(await pushesFor(sims.push, frank.id)).toEqual([]);
    expect(await pushesFor(sims.push, henry.id)).toEqual([]);
    expect(await pushesFor(sims.push, gina.id)).toHaveLength(1);
    frankWs.close();
  }, 30_000);
});
