import { expect, test } from "bun:test";
import { createRouterTransport } from "@connectrpc/connect";
import { DomainError, invalid, isDomainError } from "@chat4all/kernel";
import type { AllocateResult, Sequencer } from "@chat4all/metadata";
import { SequencerService } from "@chat4all/proto/chat4all/v1/sequencer_pb";
import { createSequencerClient, createSequencerService } from "./sequencer.ts";

/** allocateMany over a fake's allocate: each request on its own, domain errors per request. */
function withMany(s: Pick<Sequencer, "allocate" | "lastSeq">, onMany?: () => void): Sequencer {
  return {
    ...s,
    async allocateMany(reqs) {
      onMany?.();
      const out: AllocateResult[] = [];
      for (const r of reqs) {
        try {
          out.push({ seqs: await s.allocate(r.conversationId, r.messageIds) });
        } catch (err) {
          if (!isDomainError(err)) throw err;
          out.push({ error: err });
        }
      }
      return out;
    },
  };
}

/** In-memory sequencer: dense, idempotent by message id (enough to exercise the glue). */
function fakeSequencer(onMany?: () => void): Sequencer {
  const seqs = new Map<string, Map<string, number>>();
  return withMany({
    async allocate(c, ids) {
      if (ids.length === 0) throw invalid("EMPTY_BATCH", "no message ids");
      const conv = seqs.get(c) ?? new Map<string, number>();
      seqs.set(c, conv);
      return ids.map((id) => {
        const known = conv.get(id);
        if (known !== undefined) return known;
        conv.set(id, conv.size + 1);
        return conv.size;
      });
    },
    async lastSeq(c) {
      return seqs.get(c)?.size ?? 0;
    },
  }, onMany);
}

function clientOf(seq: Sequencer): Sequencer {
  return createSequencerClient(createRouterTransport((r) => r.service(SequencerService, createSequencerService(seq))));
}

test("sequencer rpc: allocate returns the server's seqs in request order and lastSeq follows", async () => {
  const client = clientOf(fakeSequencer());
  expect(await client.lastSeq("c-1")).toBe(0);
  expect(await client.allocate("c-1", ["a", "b", "c"])).toEqual([1, 2, 3]);
  expect(await client.allocate("c-1", ["d", "b", "e"])).toEqual([4, 2, 5]);
  expect(await client.lastSeq("c-1")).toBe(5);
  expect(await client.allocate("c-2", ["a"])).toEqual([1]);
});

test("sequencer rpc: seqs beyond 2^32 survive the 64-bit wire type", async () => {
  const big = withMany({ allocate: async (_c, ids) => ids.map((_, i) => 2 ** 40 + i), lastSeq: async () => 2 ** 53 - 1 });
  const client = clientOf(big);
  expect(await client.allocate("c", ["x", "y"])).toEqual([2 ** 40, 2 ** 40 + 1]);
  expect(await client.lastSeq("c")).toBe(Number.MAX_SAFE_INTEGER);
});

test("sequencer rpc: a DomainError of the sequencer keeps its kind and code", async () => {
  const err = await clientOf(fakeSequencer()).allocate("c-1", []).catch((e) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect([err.kind, err.code, err.message]).toEqual(["invalid", "EMPTY_BATCH", "no message ids"]);
});

test("sequencer rpc: a reply with the wrong number of seqs is an error, not a silent mismatch", async () => {
  const short: Sequencer = { ...withMany({ allocate: async () => [1], lastSeq: async () => 1 }), allocateMany: async () => [{ seqs: [1] }] };
  const err = await clientOf(short).allocate("c", ["a", "b"]).catch((e) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain("seq count mismatch");
});

test("sequencer rpc: concurrent allocate calls are coalesced into one AllocateMany, each with its own result", async () => {
  let calls = 0;
  const client = clientOf(fakeSequencer(() => calls++));
  const results = await Promise.allSettled([
    ...Array.from({ length: 50 }, (_, i) => client.allocate(`c-${i % 5}`, [`m-${i}`])),
    client.allocate("c-bad", []),
  ]);
  expect(calls).toBe(1);
  const ok = results.slice(0, 50).map((r) => (r.status === "fulfilled" ? r.value[0] : -1));
  for (let c = 0; c < 5; c++) expect(ok.filter((_, i) => i % 5 === c)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const bad = results[50];
  expect(bad?.status).toBe("rejected");
  expect((bad as PromiseRejectedResult).reason).toMatchObject({ kind: "invalid", code: "EMPTY_BATCH" });
});
