import { describe, expect, test } from "bun:test";
import { type PartitionWrite, bigintKey, estimateBytes, intKey, planBatches, routingKey, textKey } from "./cassandra-batches.ts";

const row = (id: string, bytes = 100) => ({ query: "INSERT", params: [id], bytes });
const part = (replicas: string, ...ids: string[]): PartitionWrite => ({ replicas, rows: ids.map((id) => row(id)) });
const ids = (batches: { params: unknown[] }[][]) => batches.map((b) => b.map((r) => r.params[0]));

describe("cassandra batches", () => {
  test("partitions owned by the same replicas share a batch; rows of a partition stay together", () => {
    const plan = planBatches([part("a", "a1", "a2"), part("b", "b1"), part("a", "a3"), part("b", "b2", "b3")]);
    expect(ids(plan)).toEqual([["a1", "a2", "a3"], ["b1", "b2", "b3"]]);
  });

  test("a batch closes at the partition, byte and row budgets", () => {
    const limits = { maxPartitions: 2, maxBytes: 1_000, maxRows: 3 };
    expect(ids(planBatches([part("", "1"), part("", "2"), part("", "3")], limits))).toEqual([["1", "2"], ["3"]]);
    const big = (id: string): PartitionWrite => ({ replicas: "", rows: [row(id, 600)] });
    expect(ids(planBatches([big("x"), big("y")], limits))).toEqual([["x"], ["y"]]);
    expect(ids(planBatches([part("", "1", "2"), part("", "3", "4")], limits))).toEqual([["1", "2"], ["3", "4"]]);
  });

  test("a partition over the budget goes alone, split into single-partition batches of maxRows", () => {
    const limits = { maxPartitions: 16, maxBytes: 1_000, maxRows: 2 };
    const plan = planBatches([part("", "s"), part("", "p1", "p2", "p3", "p4", "p5"), part("", "t")], limits);
    expect(ids(plan)).toEqual([["p1", "p2"], ["p3", "p4"], ["p5"], ["s", "t"]]);
  });

  test("every row is planned exactly once", () => {
    const parts = Array.from({ length: 500 }, (_, i) => part(String(i % 3), ...Array.from({ length: (i % 4) + 1 }, (_, k) => `${i}.${k}`)));
    const planned = planBatches(parts).flat().map((r) => r.params[0]);
    const all = parts.flatMap((p) => p.rows.map((r) => r.params[0]));
    expect(planned.length).toBe(all.length);
    expect(new Set(planned)).toEqual(new Set(all));
  });

  test("routing keys: a single component is itself; a composite is length-prefixed and 0-terminated", () => {
    expect(routingKey([textKey("ab")])).toEqual(Buffer.from("ab"));
    expect([...routingKey([textKey("ab"), intKey(1)])]).toEqual([0, 2, 97, 98, 0, 0, 4, 0, 0, 0, 1, 0]);
    expect([...bigintKey(258)]).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
  });

  test("size estimates count string lengths", () => {
    expect(estimateBytes(["x".repeat(1000), 1, null])).toBeGreaterThanOrEqual(1000);
  });
});
