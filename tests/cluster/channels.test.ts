// External channels on the cluster: gateways :3000/:3001, connectors and notifier as their own processes,
// and the WhatsApp/Instagram/push simulators on :3201–:3203 (all started by scripts/cluster.sh). Every hop
// between them is real HTTP; statuses and replies come back through the gateways' signed webhooks.
import { describe, expect, test } from "bun:test";
import { phone, pushesFor, sentTo, sign, simulateInbound, waitSent, whatsappInbound } from "../support/channels.ts";
import { call, eventually, newUser, openSocket } from "../support/client.ts";

for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const A = process.env.C4A_GATEWAY_A ?? "http://127.0.0.1:3000";
const B = process.env.C4A_GATEWAY_B ?? "http://127.0.0.1:3001";
const WHATSAPP = process.env.C4A_WHATSAPP_API_URL ?? "http://127.0.0.1:3201";
const INSTAGRAM = process.env.C4A_INSTAGRAM_API_URL ?? "http://127.0.0.1:3202";
const PUSH = process.env.C4A_PUSH_API_URL ?? "http://127.0.0.1:3203";

type User = Awaited<ReturnType<typeof newUser>>;
const send = (base: string, u: User, conversationId: string, content: string, target_channels?: string[]) =>
  call(base, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conversationId, content, target_channels } });
const history = async (base: string, u: User, conversationId: string): Promise<any[]> =>
  (await call(base, "GET", `/v1/messages/${conversationId}?limit=100`, { token: u.token })).body;

/** Alice (on A) and Bob (on B) in a private conversation; Bob linked a WhatsApp number and an Instagram id. */
async function pair() {
  const alice = await newUser(A, "alice");
  const bob = await newUser(B, "bob");
  const bobPhone = phone();
  const bobIg = `bob.${crypto.randomUUID().slice(0, 8)}`;
  expect((await call(B, "POST", "/v1/users/me/identities", { token: bob.token, body: { channel: "whatsapp", external_id: bobPhone } })).status).toBe(201);
  expect((await call(A, "POST", "/v1/users/me/identities", { token: bob.token, body: { channel: "instagram", external_id: bobIg } })).status).toBe(201);
  const conversationId = (await call(A, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } })).body.conversation_id as string;
  return { alice, bob, bobPhone, bobIg, conversationId };
}

describe("external channels (cluster)", () => {
  test("cluster channels: WhatsApp-only reaches the provider and no socket; `all` reaches both providers; webhook statuses reach the sender on the other gateway", async () => {
    const { alice, bob, bobPhone, bobIg, conversationId } = await pair();
    const bobWs = await openSocket(B, bob.token);
    const aliceWs = await openSocket(B, alice.token);
    const wa = await send(A, alice, conversationId, "whatsapp only", ["whatsapp"]);
    expect(wa.status).toBe(202);
    const all = await send(A, alice, conversationId, "everywhere", ["all"]);
    expect(all.status).toBe(202);
    expect(await bobWs.next((f) => f.type === "MESSAGE", 15_000)).toMatchObject({ message_id: all.body.message_id, sequence_number: 2 });
    expect(bobWs.frames.filter((f) => f.message_id === wa.body.message_id)).toEqual([]);
    expect(await waitSent(WHATSAPP, bobPhone, wa.body.message_id, 15_000)).toMatchObject({ text: "whatsapp only", client_ref: `${wa.body.message_id}:${bob.id}` });
    await waitSent(WHATSAPP, bobPhone, all.body.message_id, 15_000);
    expect(await waitSent(INSTAGRAM, bobIg, all.body.message_id, 15_000)).toMatchObject({ text: "everywhere" });
    expect(await sentTo(INSTAGRAM, bobIg)).toHaveLength(1);
    // delivered/read webhooks land on gateway A; the receipts reach Alice's socket on gateway B.
    const read = await aliceWs.next((f) => f.type === "STATUS_UPDATE" && f.status === "READ" && f.sequence_number === 2, 20_000);
    expect(read).toMatchObject({ conversation_id: conversationId, read_by: bob.id });
    await eventually(async () => (await history(A, alice, conversationId)).every((m) => m.status === "READ"), 20_000);
    bobWs.close();
    aliceWs.close();
  }, 60_000);

  test("cluster channels: a WhatsApp reply lands in the conversation once, reaches the other member's socket; forged webhooks get 401 on both gateways", async () => {
    const { alice, bob, bobPhone, conversationId } = await pair();
    const out = await send(B, alice, conversationId, "question?", ["whatsapp"]);
    const atProvider = await waitSent(WHATSAPP, bobPhone, out.body.message_id, 15_000);
    const aliceWs = await openSocket(B, alice.token);
    const id = `wamid.cluster-${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++)
      expect((await simulateInbound(WHATSAPP, { from: bobPhone, text: "answer!", id, reply_to: atProvider.message_id })).body.webhook_status).toBe(200);
    expect(await aliceWs.next((f) => f.type === "MESSAGE" && f.content === "answer!", 15_000)).toMatchObject({ sender_id: bob.id, sequence_number: 2 });
    const raw = JSON.stringify(whatsappInbound(bobPhone, `wamid.forged-${crypto.randomUUID()}`, "forged"));
    for (const base of [A, B]) {
      const r = await call(base, "POST", "/webhooks/whatsapp", { raw, headers: { "x-hub-signature-256": sign("not-the-secret", raw) } });
      expect([r.status, r.body.error?.code]).toEqual([401, "INVALID_SIGNATURE"]);
    }
    await simulateInbound(WHATSAPP, { from: bobPhone, text: "after" });
    const h = await eventually(async () => {
      const list = await history(A, alice, conversationId);
      return list.some((m) => m.content === "after") ? list : undefined;
    }, 15_000);
    expect(h.map((m) => m.content)).toEqual(["after", "answer!", "question?"]);
    expect(h[1]).toMatchObject({ sender_id: bob.id, metadata: { origin: "whatsapp", provider_message_id: id } });
    aliceWs.close();
  }, 60_000);

  test("cluster channels: an offline recipient gets one push notification, an online one none", async () => {
    const henry = await newUser(A, "henry");
    const frank = await newUser(B, "frank");
    const gina = await newUser(A, "gina");
    const conversationId = (await call(A, "POST", "/v1/conversations", { token: henry.token, body: { type: "group", members: [frank.id, gina.id] } })).body.conversation_id;
    const frankWs = await openSocket(B, frank.token);
    await Bun.sleep(300);
    const m = await send(A, henry, conversationId, "anyone there?");
    await frankWs.next((f) => f.type === "MESSAGE" && f.message_id === m.body.message_id, 15_000);
    const [pushed] = await eventually(async () => {
      const list = await pushesFor(PUSH, gina.id);
      return list.length > 0 ? list : undefined;
    }, 15_000);
    expect(pushed).toMatchObject({ recipient: gina.id, message_id: m.body.message_id, sequence_number: 1, sender_id: henry.id });
    await Bun.sleep(500);
    expect(await pushesFor(PUSH, frank.id)).toEqual([]);
    expect(await pushesFor(PUSH, gina.id)).toHaveLength(1);
    frankWs.close();
  }, 60_000);
});
