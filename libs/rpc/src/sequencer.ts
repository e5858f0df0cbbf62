import { createClient, type ServiceImpl, type Transport } from "@connectrpc/connect";
import type { Sequencer } from "@chat4all/metadata";
import { SequencerService } from "@chat4all/proto/chat4all/v1/sequencer_pb";
import { fromConnectError, withConnectErrors } from "./errors.ts";

/** Serves a Sequencer as SequencerService; its DomainErrors cross the wire with kind and code. */
export function createSequencerService(seq: Sequencer): ServiceImpl<typeof SequencerService> {
  return withConnectErrors({
    async allocate(req) {
      const seqs = await seq.allocate(req.conversationId, req.messageIds);
      return { seqs: seqs.map((n) => BigInt(n)) };
    },
    async lastSeq(req) {
      return { lastSeq: BigInt(await seq.lastSeq(req.conversationId)) };
    },
  } satisfies ServiceImpl<typeof SequencerService>);
}

/**
 * A Sequencer calling SequencerService over `transport`. Server DomainErrors come back with the
 * same kind and code; an unreachable server raises `unavailable("SEQUENCER_UNAVAILABLE")`.
 */
export function createSequencerClient(transport: Transport, opts: { timeoutMs?: number } = {}): Sequencer {
  const client = createClient(SequencerService, transport);
  const callOpts = { timeoutMs: opts.timeoutMs ?? 10_000 };
  const fail = (what: string) => (err: unknown) => {
    throw fromConnectError(err, `sequencer rpc ${what}`, "SEQUENCER_UNAVAILABLE");
  };
  return {
    async allocate(conversationId, messageIds) {
      const res = await client.allocate({ conversationId, messageIds }, callOpts).catch(fail("Allocate"));
      if (res.seqs.length !== messageIds.length) {
        throw new Error(`sequencer rpc Allocate: ${res.seqs.length} seqs for ${messageIds.length} ids`);
      }
      return res.seqs.map(Number);
    },
    async lastSeq(conversationId) {
      const res = await client.lastSeq({ conversationId }, callOpts).catch(fail("LastSeq"));
      return Number(res.lastSeq);
    },
  };
}
