import { createHash, randomUUID } from "node:crypto";
import { access, copyFile, mkdir, open, readdir, readFile, rename, rm, stat as fsStat, writeFile, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { invalid, notFound } from "@chat4all/kernel";
import type { BlobStore, PresignPostInput } from "./blob-store.ts";
import { HttpError, readUploadForm } from "./form-upload.ts";
import { bareEtag, objectPath, quoteEtag, sign, verify } from "./local-signing.ts";
import { checkKey, decodeKey, encodeKey } from "./object-key.ts";

/** Configuration of the embedded BlobStore. */
export interface LocalBlobStoreConfig {
  /** Folder holding objects/, multipart/ and tmp/. */
  root: string;
  /** HMAC-SHA256 key of presigned URLs and policies. */
  secret: string;
  /** Where clients reach the gateway, e.g. "http://localhost:3000"; URLs are `${publicBaseUrl}${prefix}/…`. */
  publicBaseUrl: string;
  /** Request path under which `handle` serves; default "/blobs". */
  prefix?: string;
  /** Smallest part but the last, as S3; default 5 MiB. */
  minPartBytes?: number;
  /** Largest part accepted (guards the disk); default 1 GiB. */
  maxPartBytes?: number;
}

interface Sidecar {
  key: string;
  contentType: string;
  size: number;
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const reply = (status: number, code = "", message = "") =>
  status === 204 ? new Response(null, { status }) : Response.json({ code, message }, { status, headers: { "X-Content-Type-Options": "nosniff" } });
const nowSec = () => Math.floor(Date.now() / 1000);

/** Streams a temp file; `abort` removes it, `commit` renames it into place. */
async function tempFile(dir: string) {
  const path = join(dir, randomUUID());
  const fh: FileHandle = await open(path, "wx");
  let closed = false;
  const close = async () => {
    if (!closed) (closed = true), await fh.close();
  };
  return {
    write: async (b: Uint8Array) => void (await fh.write(b)),
    abort: async () => {
      await close().catch(() => {});
      await rm(path, { force: true });
    },
    commit: async (to: string) => {
      await fh.sync();
      await close();
      await mkdir(dirname(to), { recursive: true });
      await rename(path, to);
    },
  };
}

/**
 * Embedded BlobStore: objects in a folder (stored under a hash of the key, with a JSON sidecar
 * holding key, content type and size), served by `handle` under `prefix` with HMAC-signed URLs.
 */
export function createLocalBlobStore(config: LocalBlobStoreConfig): BlobStore {
  const prefix = (config.prefix ?? "/blobs").replace(/\/$/, "");
  const base = config.publicBaseUrl.replace(/\/$/, "") + prefix;
  const minPart = config.minPartBytes ?? 5 * 1024 * 1024;
  const maxPart = config.maxPartBytes ?? 1024 * 1024 * 1024;
  const dirs = { objects: join(config.root, "objects"), multipart: join(config.root, "multipart"), tmp: join(config.root, "tmp") };
  const dataPath = (key: string) => join(dirs.objects, `${objectPath(key)}.bin`);
  const metaPath = (key: string) => join(dirs.objects, `${objectPath(key)}.json`);
  const uploadDir = (id: string) => {
    if (!UPLOAD_ID.test(id)) throw notFound("NO_SUCH_UPLOAD", "unknown multipart upload");
    return join(dirs.multipart, id);
  };
  const secret = config.secret;
  if (!secret) throw new Error("local blob store: a signing secret is required");

  async function readSidecar(key: string): Promise<Sidecar | null> {
    try {
      const s = JSON.parse(await readFile(metaPath(key), "utf8")) as Sidecar;
      return s.key === key ? s : null;
    } catch {
      return null;
    }
  }
  async function publish(key: string, tmp: Awaited<ReturnType<typeof tempFile>>, contentType: string, size: number) {
    await tmp.commit(dataPath(key));
    const meta = join(dirs.tmp, `${randomUUID()}.json`);
    await writeFile(meta, JSON.stringify({ key, contentType, size } satisfies Sidecar));
    await rename(meta, metaPath(key)); // the object exists once its sidecar does
  }
  async function readUpload(key: string, uploadId: string): Promise<{ key: string; contentType: string }> {
    const u = await readFile(join(uploadDir(uploadId), "upload.json"), "utf8").then(JSON.parse, () => null);
    if (!u || u.key !== key) throw notFound("NO_SUCH_UPLOAD", "unknown multipart upload");
    return u;
  }

  async function handlePost(req: Request): Promise<Response> {
    let tmp: Awaited<ReturnType<typeof tempFile>> | undefined;
    let size = 0;
    let policy: { key: string; contentType: string; min: number; max: number } | undefined;
    try {
      await readUploadForm(req, async (f) => {
        if (!verify(secret, ["POST", f.policy ?? ""], f["x-amz-signature"])) throw new HttpError(403, "SignatureDoesNotMatch", "bad policy signature");
        let doc: { expiration: string; conditions: unknown[] };
        try {
          doc = JSON.parse(Buffer.from(f.policy!, "base64").toString("utf8"));
        } catch {
          throw new HttpError(400, "InvalidPolicyDocument", "unreadable policy");
        }
        if (!(Date.parse(doc.expiration) > Date.now())) throw new HttpError(403, "AccessDenied", "policy expired");
        const eq = (name: string) => (doc.conditions.find((c) => c && typeof c === "object" && name in c) as Record<string, string> | undefined)?.[name];
        const range = doc.conditions.find((c) => Array.isArray(c) && c[0] === "content-length-range") as [string, number, number] | undefined;
        const key = eq("key");
        const contentType = eq("Content-Type");
        if (key === undefined || contentType === undefined || !range) throw new HttpError(400, "InvalidPolicyDocument", "incomplete policy");
        if (f.key !== key) throw new HttpError(400, "InvalidPolicyCondition", "key does not match the policy");
        if (f["content-type"] !== contentType) throw new HttpError(400, "InvalidPolicyCondition", "Content-Type does not match the policy");
        policy = { key: checkKey(key), contentType, min: range[1], max: range[2] };
        tmp = await tempFile(dirs.tmp);
        const max = range[2];
        return async (chunk) => {
          size += chunk.length;
          if (size > max) throw new HttpError(400, "EntityTooLarge", `file above ${max} bytes`);
          await tmp!.write(chunk);
        };
      });
      if (!policy || !tmp) throw new HttpError(400, "MalformedPOSTRequest", "no file");
      if (size < policy.min) throw new HttpError(400, "EntityTooSmall", `file below ${policy.min} bytes`);
      await publish(policy.key, tmp, policy.contentType, size);
      tmp = undefined;
      return reply(204);
    } catch (err) {
      if (err instanceof HttpError) return reply(err.status, err.code, err.message);
      if (err instanceof Error && err.name === "DomainError") return reply(400, "InvalidArgument", err.message);
      throw err;
    } finally {
      await tmp?.abort();
    }
  }

  async function handleGet(req: Request, key: string, url: URL): Promise<Response> {
    const exp = Number(url.searchParams.get("exp"));
    const cd = url.searchParams.get("cd") ?? "";
    if (!verify(secret, ["GET", key, exp, cd], url.searchParams.get("sig"))) return reply(403, "SignatureDoesNotMatch", "bad signature");
    if (!(exp >= nowSec())) return reply(403, "AccessDenied", "request has expired");
    const meta = await readSidecar(key);
    if (!meta) return reply(404, "NoSuchKey", "no such object");
    const headers: Record<string, string> = {
      "Content-Type": meta.contentType,
      "Content-Length": String(meta.size),
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "private, max-age=0",
    };
    if (cd) headers["Content-Disposition"] = cd;
    return new Response(req.method === "HEAD" ? null : Bun.file(dataPath(key)), { headers });
  }

  async function handlePart(req: Request, key: string, url: URL): Promise<Response> {
    const q = url.searchParams;
    const [uploadId, partNumber, exp] = [q.get("uploadId") ?? "", Number(q.get("partNumber")), Number(q.get("exp"))];
    if (!verify(secret, ["PUT", key, uploadId, partNumber, exp], q.get("sig"))) return reply(403, "SignatureDoesNotMatch", "bad signature");
    if (!(exp >= nowSec())) return reply(403, "AccessDenied", "request has expired");
    let tmp: Awaited<ReturnType<typeof tempFile>> | undefined;
    try {
      const dir = uploadDir(uploadId);
      await readUpload(key, uploadId);
      if (!req.body) return reply(400, "MissingRequestBody", "no part body");
      tmp = await tempFile(dir);
      const md5 = createHash("md5");
      let size = 0;
      const reader = req.body.getReader();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        size += r.value.length;
        if (size > maxPart) {
          reader.cancel().catch(() => {});
          return reply(400, "EntityTooLarge", `part above ${maxPart} bytes`);
        }
        md5.update(r.value);
        await tmp.write(r.value);
      }
      const etag = md5.digest("hex");
      await tmp.commit(join(dir, `${partNumber}.part`));
      tmp = undefined;
      await writeFile(join(dir, `${partNumber}.json`), JSON.stringify({ etag, size }));
      return new Response(null, { status: 200, headers: { ETag: quoteEtag(etag) } });
    } catch (err) {
      if (err instanceof Error && err.name === "DomainError") return reply(404, "NoSuchUpload", "no such upload");
      throw err;
    } finally {
      await tmp?.abort();
    }
  }

  return {
    async init() {
      for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
      // Temp files older than a day were left by a crash mid-upload.
      for (const f of await readdir(dirs.tmp)) {
        const p = join(dirs.tmp, f);
        if (((await fsStat(p).catch(() => null))?.mtimeMs ?? Infinity) < Date.now() - 86_400_000) await rm(p, { force: true });
      }
    },

    async presignPost(p: PresignPostInput) {
      checkKey(p.key);
      if (!(p.minSize >= 0 && p.maxSize >= p.minSize && p.expiresSec > 0)) throw invalid("INVALID_POLICY", "bad size range or expiry");
      const doc = {
        expiration: new Date(Date.now() + p.expiresSec * 1000).toISOString(),
        conditions: [{ key: p.key }, { "Content-Type": p.contentType }, ["content-length-range", p.minSize, p.maxSize]],
      };
      const policy = Buffer.from(JSON.stringify(doc)).toString("base64");
      return {
        url: `${base}/upload`,
        fields: { key: p.key, "Content-Type": p.contentType, policy, "x-amz-signature": sign(secret, ["POST", policy]) },
      };
    },

    async presignGet(key, expiresSec, opts) {
      checkKey(key);
      const exp = nowSec() + expiresSec;
      const cd = opts?.contentDisposition ?? "";
      if (/[\0-\x1f\x7f]/.test(cd)) throw invalid("INVALID_CONTENT_DISPOSITION", "control characters in Content-Disposition");
      const q = new URLSearchParams({ exp: String(exp) });
      if (cd) q.set("cd", cd);
      q.set("sig", sign(secret, ["GET", key, exp, cd]));
      return `${base}/o/${encodeKey(key)}?${q}`;
    },

    async stat(key) {
      checkKey(key);
      const s = await readSidecar(key);
      return s ? { size: s.size, contentType: s.contentType } : null;
    },

    async copy(from, to) {
      checkKey(from);
      checkKey(to);
      const src = await readSidecar(from);
      if (!src) throw notFound("NO_SUCH_OBJECT", `no object ${from}`);
      const tmp = join(dirs.tmp, `${randomUUID()}.bin`);
      try {
        await copyFile(dataPath(from), tmp);
        // The size of the bytes actually copied (the source may have been replaced meanwhile).
        const size = (await fsStat(tmp)).size;
        await mkdir(dirname(dataPath(to)), { recursive: true });
        await rename(tmp, dataPath(to));
        const meta = join(dirs.tmp, `${randomUUID()}.json`);
        await writeFile(meta, JSON.stringify({ key: to, contentType: src.contentType, size } satisfies Sidecar));
        await rename(meta, metaPath(to));
      } catch (err) {
        await rm(tmp, { force: true });
        if ((err as { code?: string }).code === "ENOENT") throw notFound("NO_SUCH_OBJECT", `no object ${from}`);
        throw err;
      }
    },

    async createMultipart(key, contentType) {
      checkKey(key);
      const id = randomUUID();
      await mkdir(uploadDir(id), { recursive: true });
      await writeFile(join(uploadDir(id), "upload.json"), JSON.stringify({ key, contentType }));
      return id;
    },

    async presignPart(key, uploadId, partNumber, expiresSec) {
      checkKey(key);
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw invalid("INVALID_PART_NUMBER", "part number must be 1..10000");
      const exp = nowSec() + expiresSec;
      const q = new URLSearchParams({ uploadId, partNumber: String(partNumber), exp: String(exp), sig: sign(secret, ["PUT", key, uploadId, partNumber, exp]) });
      return `${base}/part/${encodeKey(key)}?${q}`;
    },

    async completeMultipart(key, uploadId, parts) {
      checkKey(key);
      const upload = await readUpload(key, uploadId);
      const dir = uploadDir(uploadId);
      if (parts.length === 0) throw invalid("INVALID_PART", "no parts");
      const tmp = await tempFile(dirs.tmp);
      let size = 0;
      try {
        for (const [i, p] of parts.entries()) {
          if (i > 0 && p.partNumber <= parts[i - 1]!.partNumber) throw invalid("INVALID_PART_ORDER", "parts must be in ascending order");
          const info = await readFile(join(dir, `${p.partNumber}.json`), "utf8").then(JSON.parse, () => null);
          if (!info || info.etag !== bareEtag(p.etag)) throw invalid("INVALID_PART", `part ${p.partNumber} is missing or its ETag differs`);
          if (i < parts.length - 1 && info.size < minPart) throw invalid("ENTITY_TOO_SMALL", `part ${p.partNumber} is below ${minPart} bytes`);
          for await (const chunk of Bun.file(join(dir, `${p.partNumber}.part`)).stream()) await tmp.write(chunk);
          size += info.size;
        }
        await publish(key, tmp, upload.contentType, size);
      } catch (err) {
        await tmp.abort();
        throw err;
      }
      await rm(dir, { recursive: true, force: true });
    },

    async abortMultipart(key, uploadId) {
      checkKey(key);
      await rm(uploadDir(uploadId), { recursive: true, force: true });
    },

    async delete(key) {
      checkKey(key);
      await rm(metaPath(key), { force: true });
      await rm(dataPath(key), { force: true });
    },

    async handle(req) {
      const url = new URL(req.url);
      if (!url.pathname.startsWith(`${prefix}/`)) return undefined;
      const rest = url.pathname.slice(prefix.length + 1);
      if (rest === "upload") return req.method === "POST" ? handlePost(req) : reply(405, "MethodNotAllowed", "POST only");
      const slash = rest.indexOf("/");
      const kind = slash < 0 ? "" : rest.slice(0, slash);
      const key = slash < 0 ? null : decodeKey(rest.slice(slash + 1));
      if (!key || (kind !== "o" && kind !== "part")) return reply(404, "NoSuchKey", "not found");
      try {
        checkKey(key);
      } catch {
        return reply(400, "InvalidArgument", "invalid key");
      }
      if (kind === "o") return req.method === "GET" || req.method === "HEAD" ? handleGet(req, key, url) : reply(405, "MethodNotAllowed", "GET only");
      return req.method === "PUT" ? handlePart(req, key, url) : reply(405, "MethodNotAllowed", "PUT only");
    },

    async healthy() {
      try {
        await access(dirs.objects);
        return (await fsStat(dirs.tmp)).isDirectory();
      } catch {
        return false;
      }
    },

    async close() {},
  };
}
