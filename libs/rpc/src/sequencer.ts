import { createClient, type ServiceImpl, type Transport } from "@connectrpc/connect";
import { DomainError, type ErrorKind } from "@chat4all/kernel";
import type { AllocateRequest, AllocateResult, Sequencer } from "@chat4all/metadata";
import { SequencerService } from "@chat4all/proto/chat4all/v1/sequencer_pb";
import { fromConnectError, withConnectErrors } from "./errors.ts";

/** Serves a Sequencer as SequencerService; its DomainErrors cross the wire with kind and code. */
export function createSequencerService(seq: Sequencer): ServiceImpl<typeof SequencerService> {
  return withConnectErrors({
    async allocate(req) {
      const seqs = await seq.allocate(req.conversationId, req.messageIds);
      return { seqs: seqs.map((n) => BigInt(n)) };
    },
    async allocateMany(req) {
      const results = await seq.allocateMany(req.items.map((i) => ({ conversationId: i.conversationId, messageIds: i.messageIds })));
      return {
        results: results.map((r) =>
          r.error ? { seqs: [], error: { kind: r.error.kind, code: r.error.code, message: r.error.message } } : { seqs: r.seqs.map((n) => BigInt(n)) },
        ),
      };
    },
    async lastSeq(req) {
      return { lastSeq: BigInt(await seq.lastSeq(req.conversationId)) };
    },
  } satisfies ServiceImpl<typeof SequencerService>);
}

const MAX_COALESCED = 500;

/**
 * A Sequencer calling SequencerService over `transport`. Server DomainErrors come back with the
 * same kind and code; an unreachable server raises `unavailable("SEQUENCER_UNAVAILABLE")`.
 * Concurrent `allocate` calls made in the same tick are coalesced into one AllocateMany call (one
 * round trip and one transaction for all of them), each caller still getting its own result.
 */
export function createSequencerClient(transport: Transport, opts: { timeoutMs?: number } = {}): Sequencer {
  const client = createClient(SequencerService, transport);
  const callOpts = { timeoutMs: opts.timeoutMs ?? 10_000 };
  const fail = (what: string) => (err: unknown) => {
    throw fromConnectError(err, `sequencer rpc ${what}`, "SEQUENCER_UNAVAILABLE");
  };

  async function allocateMany(requests: AllocateRequest[]): Promise<AllocateResult[]> {
    if (requests.length === 0) return [];
    const res = await client.allocateMany({ items: requests }, callOpts).catch(fail("AllocateMany"));
    if (res.results.length !== requests.length) throw new Error(`sequencer rpc AllocateMany: ${res.results.length} results for ${requests.length} items`);
    return res.results.map((r, i) => {
      if (r.error) return { error: new DomainError(r.error.kind as ErrorKind, r.error.code, r.error.message) };
      if (r.seqs.length !== requests[i]?.messageIds.length) throw new Error("sequencer rpc AllocateMany: seq count mismatch");
      return { seqs: r.seqs.map(Number) };
    });
  }

  let pending: { req: AllocateRequest; resolve: (s: number[]) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    allocateMany(batch.map((p) => p.req)).then(
      (results) =>
        results.forEach((r, i) => {
          const p = batch[i];
          if (!p) return;
          if (r.error) p.reject(r.error);
          else p.resolve(r.seqs);
        }),
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  };

  return {
    allocate(conversationId, messageIds) {
      return new Promise<number[]>((resolve, reject) => {
        if (pending.length === 0) queueMicrotask(flush);
        pending.push({ req: { conversationId, messageIds }, resolve, reject });
        if (pending.length >= MAX_COALESCED) flush();
      });
    },
    allocateMany,
    async lastSeq(conversationId) {
      const res = await client.lastSeq({ conversationId }, callOpts).catch(fail("LastSeq"));
      return Number(res.lastSeq);
    },
  };
}


