import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BlobStore } from "./blob-store.ts";

/** Options of the BlobStore contract suite. */
export interface BlobStoreContractOptions {
  /** Prefix of every key the suite writes (isolates runs sharing a bucket); default a random one. */
  keyPrefix?: string;
  /** Called once after the store was closed. */
  cleanup?: () => Promise<void>;
}

const MiB = 1024 * 1024;

function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A browser-style upload: the presigned fields first, then the file. */
function postForm(url: string, fields: Record<string, string>, body: Uint8Array<ArrayBuffer>, type = "application/octet-stream") {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([body], { type }), "upload.bin");
  return fetch(url, { method: "POST", body: form });
}

async function fetchBytes(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { res, body: new Uint8Array(await res.arrayBuffer()) };
}

/** Flips one character of the URL's signature parameter. */
function tamperSignature(url: string): string {
  const u = new URL(url);
  const name = [...u.searchParams.keys()].find((k) => /^(x-amz-signature|signature|sig)$/i.test(k));
  if (!name) throw new Error(`no signature parameter in ${url}`);
  const sig = u.searchParams.get(name)!;
  u.searchParams.set(name, (sig[0] === "a" ? "b" : "a") + sig.slice(1));
  return u.toString();
}

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** Runs the BlobStore contract against an adapter, with real HTTP uploads and downloads. */
export function describeBlobStoreContract(label: string, make: () => Promise<BlobStore>, opts: BlobStoreContractOptions = {}): void {
  const prefix = opts.keyPrefix ?? `contract-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let n = 0;
  const key = (name: string) => `${prefix}/${n++}/${name}`;
  const written: string[] = [];

  describe(`blob store contract (${label})`, () => {
    let store: BlobStore;
    const post = async (k: string, contentType: string, minSize: number, maxSize: number, expiresSec = 60) => {
      written.push(k);
      return store.presignPost({ key: k, contentType, minSize, maxSize, expiresSec });
    };

    beforeAll(async () => {
      store = await make();
      await store.init();
    });
    afterAll(async () => {
      for (const k of written) await store.delete(k).catch(() => {});
      await store?.close();
      await opts.cleanup?.();
    });

    test("blob store: init is idempotent and the store reports healthy", async () => {
      await store.init();
      expect(await store.healthy()).toBe(true);
    });

    test("blob store: an upload within the policy answers 204 and is served back by a presigned GET", async () => {
      const k = key("photo.png");
      const data = bytes(1234);
      const { url, fields } = await post(k, "image/png", 1, 10_000);
      const res = await postForm(url, fields, data, "image/png");
      expect(res.status).toBe(204);
      expect(await store.stat(k)).toEqual({ size: 1234, contentType: "image/png" });
      const { res: got, body } = await fetchBytes(await store.presignGet(k, 60));
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect(sha(body)).toBe(sha(data));
    });

    test("blob store: the size bounds are inclusive and enforced by the storage", async () => {
      const [kMax, kBig, kSmall] = [key("max.bin"), key("big.bin"), key("small.bin")];
      const atMax = await post(kMax, "application/octet-stream", 10, 2048);
      expect((await postForm(atMax.url, atMax.fields, bytes(2048))).status).toBe(204);
      const big = await post(kBig, "application/octet-stream", 10, 2048);
      const rBig = await postForm(big.url, big.fields, bytes(2049));
      expect(rBig.status).toBeGreaterThanOrEqual(400);
      expect(rBig.status).toBeLessThan(500);
      const small = await post(kSmall, "application/octet-stream", 10, 2048);
      const rSmall = await postForm(small.url, small.fields, bytes(9));
      expect(rSmall.status).toBeGreaterThanOrEqual(400);
      expect(rSmall.status).toBeLessThan(500);
      expect(await store.stat(kMax)).toEqual({ size: 2048, contentType: "application/octet-stream" });
      expect(await store.stat(kBig)).toBeNull();
      expect(await store.stat(kSmall)).toBeNull();
    });

    test("blob store: an upload with another content type or key than the policy's is refused and stores nothing", async () => {
      const k = key("doc.pdf");
      const other = key("other.pdf");
      const p = await post(k, "application/pdf", 1, 10_000);
      const ctField = Object.keys(p.fields).find((f) => f.toLowerCase() === "content-type") ?? "Content-Type";
      const rType = await postForm(p.url, { ...p.fields, [ctField]: "text/html" }, bytes(100), "text/html");
      expect(rType.status).toBeGreaterThanOrEqual(400);
      expect(rType.status).toBeLessThan(500);
      written.push(other);
      const rKey = await postForm(p.url, { ...p.fields, key: other }, bytes(100), "application/pdf");
      expect(rKey.status).toBeGreaterThanOrEqual(400);
      expect(rKey.status).toBeLessThan(500);
      expect(await store.stat(k)).toBeNull();
      expect(await store.stat(other)).toBeNull();
    });

    test("blob store: an upload with a tampered policy signature answers 403", async () => {
      const k = key("sig.bin");
      const p = await post(k, "application/octet-stream", 1, 10_000);
      const sigField = Object.keys(p.fields).find((f) => /signature/i.test(f));
      expect(sigField).toBeDefined();
      const sig = p.fields[sigField!]!;
      const res = await postForm(p.url, { ...p.fields, [sigField!]: (sig[0] === "a" ? "b" : "a") + sig.slice(1) }, bytes(10));
      expect(res.status).toBe(403);
      expect(await store.stat(k)).toBeNull();
    });

    test("blob store: a presigned GET carries the Content-Disposition it was signed with", async () => {
      const k = key("report.pdf");
      const p = await post(k, "application/pdf", 1, 10_000);
      expect((await postForm(p.url, p.fields, bytes(500), "application/pdf")).status).toBe(204);
      const disposition = 'attachment; filename="report.pdf"';
      const res = await fetch(await store.presignGet(k, 60, { contentDisposition: disposition }));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toBe(disposition);
      expect((await res.arrayBuffer()).byteLength).toBe(500);
    });

    test("blob store: a tampered GET signature or another key under the same signature answers 403", async () => {
      const k = key("secret.txt");
      const p = await post(k, "text/plain", 1, 10_000);
      expect((await postForm(p.url, p.fields, bytes(50), "text/plain")).status).toBe(204);
      const url = await store.presignGet(k, 60);
      const bad = await fetch(tamperSignature(url));
      expect(bad.status).toBe(403);
      const moved = new URL(url);
      moved.pathname = moved.pathname.replace(/secret\.txt$/, "secreT.txt");
      expect((await fetch(moved.toString())).status).toBe(403);
      expect((await fetch(url)).status).toBe(200);
    });

    test("blob store: an expired upload policy and an expired GET both answer 403", async () => {
      const k = key("late.bin");
      const kept = key("kept.bin");
      const pk = await post(kept, "application/octet-stream", 1, 10_000);
      expect((await postForm(pk.url, pk.fields, bytes(20))).status).toBe(204);
      const late = await post(k, "application/octet-stream", 1, 10_000, 1);
      const getUrl = await store.presignGet(kept, 1);
      await Bun.sleep(2200);
      expect((await postForm(late.url, late.fields, bytes(20))).status).toBe(403);
      expect(await store.stat(k)).toBeNull();
      expect((await fetch(getUrl)).status).toBe(403);
    });

    test("blob store: stat answers null for an unknown key, and delete removes an object", async () => {
      expect(await store.stat(key("never.bin"))).toBeNull();
      const k = key("gone.bin");
      const p = await post(k, "application/octet-stream", 1, 10_000);
      expect((await postForm(p.url, p.fields, bytes(30))).status).toBe(204);
      expect(await store.stat(k)).not.toBeNull();
      await store.delete(k);
      expect(await store.stat(k)).toBeNull();
      const res = await fetch(await store.presignGet(k, 60));
      expect(res.status).toBe(404);
      await store.delete(k); // deleting a missing key is fine
    });

    test("blob store: a copy is independent of its source; copying a missing object fails", async () => {
      const src = key("src.png");
      const dst = key("dst.png");
      written.push(dst);
      const first = bytes(500, 1);
      const p1 = await post(src, "image/png", 500, 500, 60);
      expect((await postForm(p1.url, p1.fields, first, "image/png")).status).toBe(204);
      await store.copy(src, dst);
      expect(await store.stat(dst)).toEqual({ size: 500, contentType: "image/png" });
      // The source is overwritten (its upload policy still valid), then deleted: the copy keeps the first bytes.
      expect((await postForm(p1.url, p1.fields, bytes(500, 2), "image/png")).status).toBe(204);
      await store.delete(src);
      const { res, body } = await fetchBytes(await store.presignGet(dst, 60));
      expect(res.status).toBe(200);
      expect(sha(body)).toBe(sha(first));
      await expect(store.copy(key("missing.bin"), key("nowhere.bin"))).rejects.toMatchObject({ code: "NO_SUCH_OBJECT" });
    });

    test("blob store: a two-part multipart upload assembles the object in order", async () => {
      const k = key("big.zip");
      written.push(k);
      const uploadId = await store.createMultipart(k, "application/zip");
      const parts = [bytes(5 * MiB, 7), bytes(1000, 8)];
      const etags: { partNumber: number; etag: string }[] = [];
      for (const [i, body] of parts.entries()) {
        const res = await fetch(await store.presignPart(k, uploadId, i + 1, 60), { method: "PUT", body });
        expect(res.status).toBe(200);
        const etag = res.headers.get("etag");
        expect(etag).toBeTruthy();
        etags.push({ partNumber: i + 1, etag: etag! });
      }
      expect(await store.stat(k)).toBeNull(); // nothing visible before completion
      await store.completeMultipart(k, uploadId, etags);
      expect(await store.stat(k)).toEqual({ size: 5 * MiB + 1000, contentType: "application/zip" });
      const { res, body } = await fetchBytes(await store.presignGet(k, 60));
      expect(res.status).toBe(200);
      expect(body.length).toBe(5 * MiB + 1000);
      expect(sha(body.subarray(0, 5 * MiB))).toBe(sha(parts[0]!));
      expect(sha(body.subarray(5 * MiB))).toBe(sha(parts[1]!));
    });

    test("blob store: a part PUT with a tampered signature answers 403", async () => {
      const k = key("tamper.zip");
      const uploadId = await store.createMultipart(k, "application/zip");
      const res = await fetch(tamperSignature(await store.presignPart(k, uploadId, 1, 60)), { method: "PUT", body: bytes(100) });
      expect(res.status).toBe(403);
      await store.abortMultipart(k, uploadId);
    });

    test("blob store: completing with a wrong ETag fails and stores nothing", async () => {
      const k = key("wrong.zip");
      const uploadId = await store.createMultipart(k, "application/zip");
      const res = await fetch(await store.presignPart(k, uploadId, 1, 60), { method: "PUT", body: bytes(100) });
      expect(res.status).toBe(200);
      await expect(store.completeMultipart(k, uploadId, [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }])).rejects.toThrow();
      expect(await store.stat(k)).toBeNull();
      await store.abortMultipart(k, uploadId);
    });

    test("blob store: an aborted multipart upload discards its parts", async () => {
      const k = key("aborted.zip");
      const uploadId = await store.createMultipart(k, "application/zip");
      const res = await fetch(await store.presignPart(k, uploadId, 1, 60), { method: "PUT", body: bytes(100) });
      const etag = res.headers.get("etag")!;
      await store.abortMultipart(k, uploadId);
      await expect(store.completeMultipart(k, uploadId, [{ partNumber: 1, etag }])).rejects.toThrow();
      expect(await store.stat(k)).toBeNull();
      const late = await fetch(await store.presignPart(k, uploadId, 2, 60), { method: "PUT", body: bytes(100) });
      expect(late.status).toBe(404);
    });
  });
}
