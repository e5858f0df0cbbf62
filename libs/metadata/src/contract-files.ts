import { expect, test } from "bun:test";
import type { FileRecord } from "./metadata-store.ts";
import { expectDomainError, newGroup, newUser, tag, uid, type ContractContext } from "./contract-helpers.ts";

const file = (ownerId: string, over: Partial<FileRecord> = {}): FileRecord => ({
  key: `files/${uid()}/${tag()}.bin`,
  ownerId,
  filename: "report.pdf",
  contentType: "application/pdf",
  size: 5_000_000_000, // above 2^32: sizes are 64-bit
  state: "uploading",
  uploadId: null,
  createdAt: Date.now(),
  ...over,
});

/** Files: records, the state machine, visibility and stale uploads. */
export function describeFileClauses(ctx: ContractContext): void {
  test("metadata: a file record round-trips and its key is unique", async () => {
    const { store } = ctx.m;
    const u = await newUser(store);
    const f = file(u.id, { uploadId: `up-${tag()}`, createdAt: 1_700_000_000_123 });
    await store.putFile(f);
    expect(await store.getFile(f.key)).toEqual(f);
    expect(await store.getFile(`nope/${uid()}`)).toBeNull();
    await expectDomainError(store.putFile(f), "conflict", "FILE_EXISTS");
  });

  test("metadata: a file moves only from uploading to ready or rejected", async () => {
    const { store } = ctx.m;
    const u = await newUser(store);
    const f = file(u.id);
    await store.putFile(f);
    await store.updateFile(f.key, { uploadId: "mp-1" });
    await store.updateFile(f.key, { state: "ready", size: 1234, contentType: "image/png", uploadId: null });
    expect(await store.getFile(f.key)).toEqual({ ...f, state: "ready", size: 1234, contentType: "image/png", uploadId: null });
    await store.updateFile(f.key, { state: "ready" });
    await expectDomainError(store.updateFile(f.key, { state: "rejected" }), "conflict", "FILE_STATE_CONFLICT");
    await expectDomainError(store.updateFile(f.key, { state: "uploading" }), "conflict", "FILE_STATE_CONFLICT");
    expect((await store.getFile(f.key))?.state).toBe("ready");
    const g = file(u.id);
    await store.putFile(g);
    await store.updateFile(g.key, { state: "rejected" });
    await expectDomainError(store.updateFile(g.key, { state: "ready" }), "conflict", "FILE_STATE_CONFLICT");
    await expectDomainError(store.updateFile(`nope/${uid()}`, { state: "ready" }), "not_found", "FILE_NOT_FOUND");
  });

  test("metadata: a file is visible to the members of conversations it was attached in, and only while they are members", async () => {
    const { store } = ctx.m;
    const [owner, member, stranger] = [await newUser(store), await newUser(store), await newUser(store)];
    const f = file(owner.id, { state: "ready" });
    await store.putFile(f);
    const g = await newGroup(store, owner, [member]);
    expect(await store.fileVisibleTo(f.key, member.id)).toBe(false);
    expect(await store.fileVisibleTo(f.key, owner.id)).toBe(false); // not attached anywhere yet
    expect(await store.fileAttachedIn(f.key, g.id)).toBe(false);
    await store.attachFile(f.key, g.id);
    await store.attachFile(f.key, g.id);
    expect(await store.fileAttachedIn(f.key, g.id)).toBe(true);
    expect(await store.fileAttachedIn(f.key, uid())).toBe(false);
    expect(await store.fileAttachedIn(`nope/${uid()}`, g.id)).toBe(false);
    expect(await store.fileVisibleTo(f.key, owner.id)).toBe(true);
    expect(await store.fileVisibleTo(f.key, member.id)).toBe(true);
    expect(await store.fileVisibleTo(f.key, stranger.id)).toBe(false);
    await store.removeMember(g.id, member.id);
    expect(await store.fileVisibleTo(f.key, member.id)).toBe(false);
    expect(await store.fileVisibleTo(`nope/${uid()}`, owner.id)).toBe(false);
    await expectDomainError(store.attachFile(`nope/${uid()}`, g.id), "not_found", "FILE_NOT_FOUND");
    await expectDomainError(store.attachFile(f.key, uid()), "not_found", "CONVERSATION_NOT_FOUND");
  });

  test("metadata: staleUploads lists uploads of both kinds still uploading that started before the cutoff, oldest first", async () => {
    const { store } = ctx.m;
    const u = await newUser(store);
    const cutoff = Date.now() - 3_600_000;
    const oldest = file(u.id, { uploadId: "a", createdAt: cutoff - 20_000 });
    const old = file(u.id, { uploadId: "b", createdAt: cutoff - 10_000 });
    const fresh = file(u.id, { uploadId: "c", createdAt: cutoff + 10_000 });
    const done = file(u.id, { uploadId: "d", createdAt: cutoff - 30_000 });
    const single = file(u.id, { createdAt: cutoff - 25_000 });
    for (const f of [old, oldest, fresh, done, single]) await store.putFile(f);
    await store.updateFile(done.key, { state: "ready" });
    const mine = new Set([oldest, old, fresh, done, single].map((f) => f.key));
    const stale = (await store.staleUploads(cutoff, 1000)).filter((f) => mine.has(f.key));
    expect(stale).toEqual([single, oldest, old]);
    expect(await store.staleUploads(cutoff, 1)).toHaveLength(1);
  });
}
