import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BlobStore, createLocalBlobStore } from "@chat4all/blob";
import { conflict, createLogger, notFound } from "@chat4all/kernel";
import type { FileRecord, MetadataStore } from "@chat4all/metadata";
import { MemoryEphemeral } from "@chat4all/ephemeral";
import { decodeUploadId, encodeUploadId, uploadKey, verifyFile } from "./service.ts";
import { createUploadSweeper } from "./sweeper.ts";

/** The file clauses of the MetadataStore contract, in memory. */
function fakeMetadata() {
  const files = new Map<string, FileRecord>();
  const store = {
    async putFile(f: FileRecord) {
      if (files.has(f.key)) throw conflict("FILE_EXISTS", f.key);
      files.set(f.key, { ...f });
    },
    async getFile(key: string) {
      const f = files.get(key);
      return f ? { ...f } : null;
    },
    async updateFile(key: string, patch: Partial<FileRecord>) {
      const f = files.get(key);
      if (!f) throw notFound("FILE_NOT_FOUND", key);
      if (patch.state && f.state !== "uploading" && f.state !== patch.state) throw conflict("FILE_STATE_CONFLICT", key);
      Object.assign(f, patch);
    },
    async staleUploads(before: number, limit: number) {
      return [...files.values()].filter((f) => f.state === "uploading" && f.createdAt < before).sort((a, b) => a.createdAt - b.createdAt).slice(0, limit);
    },
  };
  return { files, store: store as unknown as MetadataStore };
}

const log = createLogger("silent");
let dir: string;
let blobs: BlobStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "c4a-sweeper-"));
  blobs = createLocalBlobStore({ root: dir, secret: "unit-test-secret", publicBaseUrl: "http://localhost:1" });
  await blobs.init();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (key: string, over: Partial<FileRecord> = {}): FileRecord => ({
  key,
  ownerId: "owner",
  filename: "f.bin",
  contentType: "application/zip",
  size: 10,
  state: "uploading",
  uploadId: null,
  createdAt: Date.now(),
  ...over,
});

/** PUTs one part through the store's own HTTP handler; returns the status. */
async function putPart(key: string, uploadId: string) {
  const url = await blobs.presignPart(uploadKey(key), uploadId, 1, 60);
  return (await blobs.handle!(new Request(url, { method: "PUT", body: new Uint8Array(10) })))!.status;
}

describe("upload sweeper", () => {
  test("files: the sweeper aborts multipart uploads open longer than the limit and leaves the rest alone", async () => {
    const m = fakeMetadata();
    const hourAgo = Date.now() - 3_600_000;
    const mk = async (name: string, createdAt: number, owner = "owner") => {
      const uploadId = await blobs.createMultipart(uploadKey(`t/${name}`), "application/zip");
      await m.store.putFile(record(`t/${name}`, { uploadId, createdAt, ownerId: owner }));
      return uploadId;
    };
    const oldId = await mk("old", hourAgo);
    const otherId = await mk("other", hourAgo, "someone-else");
    const freshId = await mk("fresh", Date.now());
    const doneId = await mk("done", hourAgo);
    await m.store.updateFile("t/done", { state: "ready" });
    expect(await putPart("t/old", oldId)).toBe(200);

    const sweeper = createUploadSweeper({ metadata: m.store, blobs, log }, { abandonAfterSec: 60, sweepIntervalSec: 1, filter: (f) => f.ownerId === "owner" });
    expect(await sweeper.sweepOnce()).toBe(1);
    expect(m.files.get("t/old")?.state).toBe("rejected");
    expect(await putPart("t/old", oldId)).toBe(404);
    expect(m.files.get("t/other")?.state).toBe("uploading"); // filtered out
    expect(await putPart("t/other", otherId)).toBe(200);
    expect(m.files.get("t/fresh")?.state).toBe("uploading");
    expect(await putPart("t/fresh", freshId)).toBe(200);
    expect(m.files.get("t/done")?.state).toBe("ready");
    expect(await putPart("t/done", doneId)).toBe(200);
    expect(await sweeper.sweepOnce()).toBe(0);
  });

  test("files: a single POST upload never sent is closed after the limit, and its bytes deleted", async () => {
    const m = fakeMetadata();
    const post = await blobs.presignPost({ key: uploadKey("t/single"), contentType: "application/zip", minSize: 10, maxSize: 10, expiresSec: 60 });
    const form = new FormData();
    for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
    form.append("file", new Blob([new Uint8Array(10)]));
    expect((await blobs.handle!(new Request(post.url, { method: "POST", body: form })))!.status).toBe(204);
    await m.store.putFile(record("t/single", { createdAt: Date.now() - 3_600_000 }));
    await m.store.putFile(record("t/single-fresh", { createdAt: Date.now() }));
    const sweeper = createUploadSweeper({ metadata: m.store, blobs, log }, { abandonAfterSec: 60, sweepIntervalSec: 1 });
    expect(await sweeper.sweepOnce()).toBe(1);
    expect(m.files.get("t/single")?.state).toBe("rejected");
    expect(await blobs.stat(uploadKey("t/single"))).toBeNull();
    expect(m.files.get("t/single-fresh")?.state).toBe("uploading");
  });

  test("files: the sweeper service sweeps on start and stops when aborted", async () => {
    const m = fakeMetadata();
    const uploadId = await blobs.createMultipart(uploadKey("t/run"), "application/zip");
    await m.store.putFile(record("t/run", { uploadId, createdAt: Date.now() - 10_000 }));
    const sweeper = createUploadSweeper({ metadata: m.store, blobs, log }, { abandonAfterSec: 1, sweepIntervalSec: 3600 });
    const ctl = new AbortController();
    const running = sweeper.run(ctl.signal);
    for (let i = 0; i < 100 && m.files.get("t/run")?.state !== "rejected"; i++) await Bun.sleep(10);
    expect(m.files.get("t/run")?.state).toBe("rejected");
    ctl.abort();
    await running;
  });
});

describe("file verification", () => {
  const upload = async (key: string, type: string, size: number) => {
    const post = await blobs.presignPost({ key: uploadKey(key), contentType: type, minSize: size, maxSize: size, expiresSec: 60 });
    const form = new FormData();
    for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
    form.append("file", new Blob([new Uint8Array(size)]));
    expect((await blobs.handle!(new Request(post.url, { method: "POST", body: form })))!.status).toBe(204);
  };

  test("files: a stored object matching its declaration makes the file ready; a mismatch rejects it and deletes the object", async () => {
    const m = fakeMetadata();
    const deps = { metadata: m.store, blobs, log, ephemeral: new MemoryEphemeral() };
    await m.store.putFile(record("v/none"));
    expect((await verifyFile(deps, (await m.store.getFile("v/none"))!)).file.state).toBe("uploading");

    await m.store.putFile(record("v/ok"));
    await upload("v/ok", "application/zip", 10);
    expect((await verifyFile(deps, (await m.store.getFile("v/ok"))!)).file.state).toBe("ready");
    expect(m.files.get("v/ok")?.state).toBe("ready");
    expect(await blobs.stat("v/ok")).toEqual({ size: 10, contentType: "application/zip" }); // served from the file key
    expect(await blobs.stat(uploadKey("v/ok"))).toBeNull(); // the upload itself is gone

    await m.store.putFile(record("v/type"));
    await upload("v/type", "text/html", 10);
    const typed = await verifyFile(deps, (await m.store.getFile("v/type"))!);
    expect(typed.file.state).toBe("rejected");
    expect(typed.problem).toContain("text/html");
    expect(await blobs.stat("v/type")).toBeNull();
    expect(await blobs.stat(uploadKey("v/type"))).toBeNull();

    await m.store.putFile(record("v/size"));
    await upload("v/size", "application/zip", 11);
    expect((await verifyFile(deps, (await m.store.getFile("v/size"))!)).problem).toContain("11 bytes");
    expect(await blobs.stat("v/size")).toBeNull();
    expect(await blobs.stat(uploadKey("v/size"))).toBeNull();
  });

  test("files: uploading again with a still valid URL after the file is ready changes nothing members download", async () => {
    const m = fakeMetadata();
    const deps = { metadata: m.store, blobs, log, ephemeral: new MemoryEphemeral() };
    await m.store.putFile(record("v/fixed"));
    const post = await blobs.presignPost({ key: uploadKey("v/fixed"), contentType: "application/zip", minSize: 10, maxSize: 10, expiresSec: 60 });
    const send = async (fill: number) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
      form.append("file", new Blob([new Uint8Array(10).fill(fill)]));
      return (await blobs.handle!(new Request(post.url, { method: "POST", body: form })))!.status;
    };
    expect(await send(1)).toBe(204);
    expect((await verifyFile(deps, (await m.store.getFile("v/fixed"))!)).file.state).toBe("ready");
    expect(await send(2)).toBe(204); // the storage accepts it: the policy is still valid
    expect((await verifyFile(deps, (await m.store.getFile("v/fixed"))!)).file.state).toBe("ready");
    const res = (await blobs.handle!(new Request(await blobs.presignGet("v/fixed", 60))))!;
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual(new Array(10).fill(1));
  });

  test("files: a file whose verification is running elsewhere stays uploading until that one settles it", async () => {
    const m = fakeMetadata();
    const ephemeral = new MemoryEphemeral();
    const deps = { metadata: m.store, blobs, log, ephemeral };
    await m.store.putFile(record("v/busy"));
    await upload("v/busy", "application/zip", 10);
    await ephemeral.setIfAbsent("file-verify:v/busy", "another gateway", 60_000);
    expect((await verifyFile(deps, (await m.store.getFile("v/busy"))!)).file.state).toBe("uploading");
    expect(await ephemeral.get("file-verify:v/busy")).toBe("another gateway"); // not released by the loser
    await ephemeral.del("file-verify:v/busy");
    expect((await verifyFile(deps, (await m.store.getFile("v/busy"))!)).file.state).toBe("ready");
    expect(await ephemeral.get("file-verify:v/busy")).toBeNull();
  });

  test("files: multipart upload ids round-trip and anything else decodes to null", () => {
    const id = encodeUploadId("u/a/b/c.png", "storage-id/with+chars");
    expect(decodeUploadId(id)).toEqual({ key: "u/a/b/c.png", uploadId: "storage-id/with+chars" });
    for (const bad of ["", "x", Buffer.from("[1,2]").toString("base64url"), Buffer.from('["",""]').toString("base64url")]) expect(decodeUploadId(bad)).toBeNull();
  });
});
