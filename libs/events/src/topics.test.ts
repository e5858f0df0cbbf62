import { expect, test } from "bun:test";
import { dlqTopic, outboundTopic, TOPICS, topicSpecs } from "./topics.ts";

test("topics: names are the DESIGN.md topics", () => {
  expect(Object.values(TOPICS).sort()).toEqual([
    "chat.message.created.v1",
    "chat.message.status.v1",
    "chat.message.stored.v1",
    "chat.notification.push.v1",
    "connector.instagram.outbound.v1",
    "connector.whatsapp.outbound.v1",
    "user.account.created.v1",
  ]);
});

test("topics: each external channel has its own outbound topic", () => {
  expect(outboundTopic("whatsapp")).toBe("connector.whatsapp.outbound.v1");
  expect(outboundTopic("instagram")).toBe("connector.instagram.outbound.v1");
  expect(() => outboundTopic("delivery" as "whatsapp")).toThrow(/unknown outbound channel/);
  expect(dlqTopic(TOPICS.messageCreated)).toBe("chat.message.created.v1.dlq");
});

test("topics: specs give every topic the requested partition count and reject nonsense", () => {
  const specs = topicSpecs(6);
  expect(specs.map((s) => s.name).sort()).toEqual(Object.values(TOPICS).sort());
  expect(specs.every((s) => s.partitions === 6)).toBe(true);
  expect(() => topicSpecs(0)).toThrow();
  expect(() => topicSpecs(1.5)).toThrow();
});
