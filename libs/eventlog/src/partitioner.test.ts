import { describe, expect, test } from "bun:test";
import { createRequire } from "node:module";
import { murmur2, partitionFor } from "./partitioner.ts";

const kafkajsMurmur2 = createRequire(import.meta.url)("kafkajs/src/producer/partitioners/default/murmur2.js") as (k: Buffer) => number;

describe("partitioner", () => {
  test("partitioner: murmur2 matches kafkajs (and so Kafka's Java client) on keys of every length", () => {
    const keys = ["", "a", "ab", "abc", "abcd", "abcde", "0", "1", "conversation-42", "ção✓", "x".repeat(257)];
    for (let i = 0; i < 300; i++) keys.push(crypto.randomUUID().slice(0, i % 37));
    for (const k of keys) expect(murmur2(new TextEncoder().encode(k))).toBe(kafkajsMurmur2(Buffer.from(k)));
  });

  test("partitioner: known Kafka vectors", () => {
    // Values from Kafka's UtilsTest.testMurmur2 ("21" → -973932308, "foobar" → -790332482).
    expect(murmur2(new TextEncoder().encode("21"))).toBe(-973932308);
    expect(murmur2(new TextEncoder().encode("foobar"))).toBe(-790332482);
  });

  test("partitioner: partitionFor is stable and in range", () => {
    for (let i = 0; i < 500; i++) {
      const p = partitionFor(`k${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(partitionFor(`k${i}`, 7)).toBe(p);
    }
  });
});
