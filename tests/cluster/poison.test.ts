// Poison events on the real Kafka: they land in the topic's dead-letter twin with the reason, and
// the consumer moves on to the next (good) event.
import { describe, expect, test } from "bun:test";
import { createEventLog } from "@chat4all/eventlog";
import { TOPICS, dlqTopic, encodeMessageCreated } from "@chat4all/events";
import { call, eventually, newUser } from "../support/client.ts";

const A = process.env.C4A_GATEWAY_A ?? "http://127.0.0.1:3000";
const brokers = (process.env.C4A_KAFKA_BROKERS ?? "").split(",").filter(Boolean);

describe("dead letters", () => {
  test("cluster: an undecodable and an invalid event go to the DLQ with the reason; the next good event is stored", async () => {
    if (brokers.length === 0) throw new Error("C4A_KAFKA_BROKERS is not set (run through scripts/test.sh)");
    const log = await createEventLog({ backend: "kafka", brokers, clientId: `poison-test-${process.pid}` });
    try {
      const a = await newUser(A, "poison");
      const b = await newUser(A, "poison");
      const conversationId = (await call(A, "POST", "/v1/conversations", { token: a.token, body: { type: "private", members: [b.id] } })).body.conversation_id;
      const marker = crypto.randomUUID(); // this run's records only: the DLQ keeps earlier runs' too
      const garbage = crypto.getRandomValues(new Uint8Array(64));
      garbage[0] = 0xff; // not a valid protobuf field tag
      const good = crypto.randomUUID();
      const ghostConversation = crypto.randomUUID();
      await log.append(TOPICS.messageCreated, [
        { key: conversationId, value: garbage, headers: { "x-test": marker } },
        // Well-formed, but for a conversation that does not exist: dead-lettered by ingest.
        {
          key: ghostConversation,
          value: encodeMessageCreated({
            messageId: crypto.randomUUID(),
            conversationId: ghostConversation,
            senderId: a.id,
            type: "text",
            content: "to nowhere",
            attachments: null,
            metadata: null,
            targetChannels: ["delivery"],
            createdAt: Date.now(),
            origin: "delivery",
          }),
        },
      ]);
      expect((await call(A, "POST", "/v1/messages", { token: a.token, body: { idempotency_key: good, conversation_id: conversationId, content: "after the poison" } })).status).toBe(202);
      await eventually(async () => (await call(A, "GET", `/v1/messages/${conversationId}`, { token: a.token })).body[0]?.message_id === good, 20_000);

      const reasons: string[] = [];
      const ac = new AbortController();
      const consuming = log.consume({
        group: `poison-test-${crypto.randomUUID()}`,
        topics: [dlqTopic(TOPICS.messageCreated)],
        signal: ac.signal,
        handle: async (batch) => {
          for (const r of batch.records) {
            if (r.headers["x-test"] !== marker && r.key !== ghostConversation) continue;
            reasons.push(r.headers["x-dlq-reason"] ?? "");
            expect(r.headers["x-dlq-topic"]).toBe(TOPICS.messageCreated);
          }
          if (reasons.length >= 2) ac.abort();
        },
      });
      await Promise.race([consuming, Bun.sleep(20_000).then(() => ac.abort())]);
      await consuming;
      expect(reasons).toHaveLength(2);
      expect(reasons.some((r) => /not found/.test(r))).toBe(true);
      expect(reasons.every((r) => r.length > 0)).toBe(true);
    } finally {
      await log.close();
    }
  }, 60_000);
});
