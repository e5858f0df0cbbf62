import { expect, test } from "bun:test";
import { expectDomainError, newGroup, newUser, uid, type ContractContext } from "./contract-helpers.ts";

/** Sequencer: density, idempotency, concurrency, atomicity. */
export function describeSequencerClauses(ctx: ContractContext): void {
  const conversation = async () => newGroup(ctx.m.store, await newUser(ctx.m.store));

  test("sequencer: allocates dense seqs from 1 in the order given", async () => {
    const { sequencer, store } = ctx.m;
    const c = await conversation();
    expect(await sequencer.lastSeq(c.id)).toBe(0);
    const ids = [uid(), uid(), uid()];
    expect(await sequencer.allocate(c.id, ids)).toEqual([1, 2, 3]);
    expect(await sequencer.allocate(c.id, [uid()])).toEqual([4]);
    expect(await sequencer.lastSeq(c.id)).toBe(4);
    expect((await store.getConversation(c.id))?.lastSeq).toBe(4);
  });

  test("sequencer: ids seen before get their earlier seq back and new ones continue densely", async () => {
    const { sequencer } = ctx.m;
    const c = await conversation();
    const [a, b, x, y] = [uid(), uid(), uid(), uid()];
    expect(await sequencer.allocate(c.id, [a, b])).toEqual([1, 2]);
    expect(await sequencer.allocate(c.id, [x, b, y, a])).toEqual([3, 2, 4, 1]);
    expect(await sequencer.allocate(c.id, [y, x, b, a])).toEqual([4, 3, 2, 1]);
    expect(await sequencer.lastSeq(c.id)).toBe(4);
  });

  test("sequencer: a repeated id inside one call gets one seq", async () => {
    const { sequencer } = ctx.m;
    const c = await conversation();
    const [a, b] = [uid(), uid()];
    expect(await sequencer.allocate(c.id, [a, b, a, a, b])).toEqual([1, 2, 1, 1, 2]);
    expect(await sequencer.lastSeq(c.id)).toBe(2);
  });

  test("sequencer: conversations are sequenced independently", async () => {
    const { sequencer } = ctx.m;
    const [c1, c2] = [await conversation(), await conversation()];
    expect(await sequencer.allocate(c1.id, [uid(), uid()])).toEqual([1, 2]);
    expect(await sequencer.allocate(c2.id, [uid()])).toEqual([1]);
    expect(await sequencer.allocate(c1.id, [uid()])).toEqual([3]);
  });

  test("sequencer: an unknown conversation raises CONVERSATION_NOT_FOUND", async () => {
    const { sequencer } = ctx.m;
    await expectDomainError(sequencer.allocate(uid(), [uid()]), "not_found", "CONVERSATION_NOT_FOUND");
    await expectDomainError(sequencer.allocate(uid(), []), "not_found", "CONVERSATION_NOT_FOUND");
    await expectDomainError(sequencer.lastSeq(uid()), "not_found", "CONVERSATION_NOT_FOUND");
  });

  test("sequencer: a failed call assigns no seq to any of its new ids", async () => {
    const { sequencer } = ctx.m;
    const [c1, c2] = [await conversation(), await conversation()];
    const taken = uid();
    expect(await sequencer.allocate(c1.id, [uid(), taken])).toEqual([1, 2]);
    expect(await sequencer.allocate(c2.id, [uid()])).toEqual([1]);
    const fresh = [uid(), uid()];
    await expectDomainError(sequencer.allocate(c2.id, [fresh[0] as string, taken, fresh[1] as string]), "conflict", "MESSAGE_ID_CONFLICT");
    expect(await sequencer.lastSeq(c2.id)).toBe(1);
    // Had the failed call sequenced fresh[0], it would get 2 back here and fresh[1] would be 3.
    expect(await sequencer.allocate(c2.id, [fresh[1] as string, fresh[0] as string])).toEqual([2, 3]);
  });

  test("sequencer: a batch of 500 ids gets 500 consecutive seqs", async () => {
    const { sequencer } = ctx.m;
    const c = await conversation();
    await sequencer.allocate(c.id, [uid()]);
    const ids = Array.from({ length: 500 }, () => uid());
    expect(await sequencer.allocate(c.id, ids)).toEqual(ids.map((_, i) => i + 2));
    expect(await sequencer.lastSeq(c.id)).toBe(501);
  });

  test("sequencer: concurrent calls for one conversation yield dense seqs, one per id", async () => {
    const { sequencer } = ctx.m;
    const c = await conversation();
    // 20 calls of 50 ids; every call shares 10 ids with the next one, so 20*40 + 10 distinct ids.
    const pool = Array.from({ length: 20 * 40 + 10 }, () => uid());
    const calls = Array.from({ length: 20 }, (_, k) => pool.slice(k * 40, k * 40 + 50));
    const results = await Promise.all(calls.map((ids) => sequencer.allocate(c.id, ids)));
    const seqOf = new Map<string, number>();
    calls.forEach((ids, k) =>
      ids.forEach((id, i) => {
        const seq = results[k]?.[i] as number;
        const prev = seqOf.get(id);
        if (prev !== undefined) expect(seq).toBe(prev);
        seqOf.set(id, seq);
      }),
    );
    expect(seqOf.size).toBe(pool.length);
    expect([...seqOf.values()].sort((x, y) => x - y)).toEqual(pool.map((_, i) => i + 1));
    expect(await sequencer.lastSeq(c.id)).toBe(pool.length);
    // Within one call, the new ids keep the order given (each call's seqs for fresh ids ascend).
    const again = await sequencer.allocate(c.id, pool);
    expect(again).toEqual(pool.map((id) => seqOf.get(id) as number));
  });

  test("sequencer: allocateMany sequences many conversations at once, each dense, with per-item errors", async () => {
    const { sequencer } = ctx.m;
    const [c1, c2, c3] = [await conversation(), await conversation(), await conversation()];
    const taken = uid();
    await sequencer.allocate(c2.id, [taken]);
    const [a, b, x, y] = [uid(), uid(), uid(), uid()];
    const results = await sequencer.allocateMany([
      { conversationId: c1.id, messageIds: [a, b] },
      { conversationId: uid(), messageIds: [uid()] },
      { conversationId: c2.id, messageIds: [x] },
      { conversationId: c3.id, messageIds: [y, taken] },
      { conversationId: c1.id, messageIds: [b, uid()] },
    ]);
    expect(results[0]).toEqual({ seqs: [1, 2] });
    expect(results[1]?.error).toMatchObject({ kind: "not_found", code: "CONVERSATION_NOT_FOUND" });
    expect(results[2]).toEqual({ seqs: [2] });
    expect(results[3]?.error).toMatchObject({ kind: "conflict", code: "MESSAGE_ID_CONFLICT" });
    // Items naming the same conversation are merged: b keeps its seq, the new id follows.
    expect(results[4]).toEqual({ seqs: [2, 3] });
    expect(await sequencer.lastSeq(c3.id)).toBe(0); // the refused item allocated nothing
    expect(await sequencer.allocate(c3.id, [y])).toEqual([1]);
  });

  test("sequencer: allocateMany allocates nothing for a refused item and stays idempotent", async () => {
    const { sequencer } = ctx.m;
    const [c1, c2] = [await conversation(), await conversation()];
    const ids = [uid(), uid()];
    const first = await sequencer.allocateMany([
      { conversationId: c1.id, messageIds: ids },
      { conversationId: c2.id, messageIds: [uid()] },
    ]);
    expect(first).toEqual([{ seqs: [1, 2] }, { seqs: [1] }]);
    const again = await sequencer.allocateMany([{ conversationId: c1.id, messageIds: [ids[1] as string, ids[0] as string] }]);
    expect(again).toEqual([{ seqs: [2, 1] }]);
    expect(await sequencer.lastSeq(c1.id)).toBe(2);
    expect(await sequencer.allocateMany([])).toEqual([]);
  });

  test("sequencer: concurrent allocateMany calls over overlapping conversations stay dense", async () => {
    const { sequencer } = ctx.m;
    const convs = [await conversation(), await conversation(), await conversation()];
    const calls = Array.from({ length: 12 }, (_, k) =>
      // Each call touches the conversations in a different order.
      [...convs].sort(() => (k % 2 ? 1 : -1)).map((c) => ({ conversationId: c.id, messageIds: [uid(), uid()] })),
    );
    await Promise.all(calls.map((reqs) => sequencer.allocateMany(reqs)));
    for (const c of convs) expect(await sequencer.lastSeq(c.id)).toBe(24);
  });
}
