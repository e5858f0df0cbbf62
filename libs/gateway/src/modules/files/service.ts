import { randomUUID } from "node:crypto";
import type { BlobStore } from "@chat4all/blob";
import { conflict, forbidden, invalid, isDomainError, notFound, tooLarge, unavailable } from "@chat4all/kernel";
import type { FileRecord } from "@chat4all/metadata";
import type { GatewayDeps } from "../../deps.ts";
import type { CompleteBody, UploadBody } from "./model.ts";
import { contentDisposition, keySafeName, normalizeContentType, sanitizeFilename, typeAllowed } from "./names.ts";
import { DEFAULT_FILE_SETTINGS, type FileSettings, partSizeFor } from "./settings.ts";

/** The stores and logger closing uploads needs. */
export type FileStoreDeps = Pick<GatewayDeps, "metadata" | "blobs" | "log">;
/** What verifying an upload needs (the Ephemeral port keeps one verification per file at a time). */
export type FileVerifyDeps = FileStoreDeps & Pick<GatewayDeps, "ephemeral">;
/** What the files feature needs from the gateway's dependencies. */
export type FileDeps = FileVerifyDeps & { settings: { files?: FileSettings } };

/** Result of checking a stored object against its record. */
interface Checked {
  file: FileRecord;
  /** Why the file was rejected, when this check rejected it. */
  problem?: string;
}

const MAX_UPLOAD_TTL_SEC = 3600;
/** A verification (copy included: up to the multipart maximum) holds its file's lock at most this long. */
const VERIFY_LOCK_MS = 300_000;

/**
 * Where the client's bytes land. Presigned uploads write here, never at the file key itself: the
 * key holds only what the server copied there when it verified the upload, so re-using a still
 * valid upload URL after the file is ready cannot change what members download.
 */
export const uploadKey = (fileKey: string) => `incoming/${fileKey}`;
const iso = (ms: number) => new Date(ms).toISOString();
const settingsOf = (deps: FileDeps) => deps.settings.files ?? DEFAULT_FILE_SETTINGS;

function blobsOf(deps: { blobs?: BlobStore }): BlobStore {
  if (!deps.blobs) throw unavailable("FILES_UNAVAILABLE", "file storage is not configured on this gateway");
  return deps.blobs;
}

/** The opaque multipart `upload_id` handed to clients: the file key and the storage's upload id. */
export function encodeUploadId(key: string, storageUploadId: string): string {
  return Buffer.from(JSON.stringify([key, storageUploadId])).toString("base64url");
}

/** The inverse of `encodeUploadId`, or null when `token` is not one. */
export function decodeUploadId(token: string): { key: string; uploadId: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string" && v[0] && v[1]) return { key: v[0], uploadId: v[1] };
  } catch {}
  return null;
}

/** Marks a file rejected and removes whatever the storage holds for it (best effort, logged). */
export async function rejectFile(deps: FileStoreDeps, f: FileRecord): Promise<FileRecord> {
  try {
    await deps.metadata.updateFile(f.key, { state: "rejected" });
  } catch (err) {
    if (!(isDomainError(err) && err.code === "FILE_STATE_CONFLICT")) throw err;
    return (await deps.metadata.getFile(f.key)) ?? f; // someone else settled it first
  }
  await dropBytes(deps, f);
  return { ...f, state: "rejected" };
}

/** Removes every byte stored for a file that will never be served (best effort, logged). */
async function dropBytes(deps: FileStoreDeps, f: FileRecord) {
  const blobs = blobsOf(deps);
  const failed = (what: string) => (err: unknown) => deps.log.warn(`${what} failed`, { key: f.key, err });
  if (f.uploadId) await blobs.abortMultipart(uploadKey(f.key), f.uploadId).catch(failed("abort multipart upload"));
  await blobs.delete(uploadKey(f.key)).catch(failed("delete upload"));
  await blobs.delete(f.key).catch(failed("delete rejected file"));
}

/**
 * Verifies an `uploading` file. The uploaded object is copied to the file key (which only the
 * server writes) and the copy is checked: `ready` when it has exactly the declared size and content
 * type, `rejected` (bytes deleted) when it differs, unchanged while nothing is uploaded yet or while
 * another verification of the same file runs. Other states are returned as they are.
 */
export async function verifyFile(deps: FileVerifyDeps, f: FileRecord): Promise<Checked> {
  if (f.state !== "uploading") return { file: f };
  const blobs = blobsOf(deps);
  const lock = `file-verify:${f.key}`;
  const owner = randomUUID();
  if (!(await deps.ephemeral.setIfAbsent(lock, owner, VERIFY_LOCK_MS))) return { file: f };
  try {
    if (!(await blobs.stat(uploadKey(f.key)))) return { file: f };
    try {
      await blobs.copy(uploadKey(f.key), f.key);
    } catch (err) {
      if (isDomainError(err) && err.code === "NO_SUCH_OBJECT") return { file: f };
      throw err;
    }
    const stat = await blobs.stat(f.key);
    if (!stat) return { file: f };
    let type = "";
    try {
      type = normalizeContentType(stat.contentType);
    } catch {}
    const problem =
      stat.size !== f.size
        ? `the stored file has ${stat.size} bytes, ${f.size} were declared`
        : type !== f.contentType
          ? `the stored file is ${JSON.stringify(stat.contentType)}, ${JSON.stringify(f.contentType)} was declared`
          : undefined;
    if (problem) return { file: await rejectFile(deps, f), problem };
    try {
      await deps.metadata.updateFile(f.key, { state: "ready", size: stat.size, contentType: type });
    } catch (err) {
      if (!(isDomainError(err) && err.code === "FILE_STATE_CONFLICT")) throw err;
      // Settled meanwhile (an abort or the sweeper): a rejected file must not keep its bytes.
      const now = (await deps.metadata.getFile(f.key)) ?? f;
      if (now.state === "rejected") await dropBytes(deps, now);
      return { file: now };
    }
    await blobs.delete(uploadKey(f.key)).catch((err) => deps.log.warn("delete verified upload failed", { key: f.key, err }));
    return { file: { ...f, state: "ready" } };
  } finally {
    if ((await deps.ephemeral.get(lock).catch(() => null)) === owner) await deps.ephemeral.del(lock).catch(() => {});
  }
}

/** A message's attachments after `validateAttachments`, and the grant to apply before the message is appended. */
export interface CheckedAttachments {
  attachments: Record<string, unknown> | null;
  /** Records the file as sent in the conversation (its members may then view it); a no-op without a file. */
  attach(): Promise<void>;
}

/**
 * Checks a message's attachments: when they name a `file_key` (required for `message_type: "file"`),
 * the file must be the sender's own or already sent in that conversation (403 FILE_NOT_ACCESSIBLE) and verified ready (400
 * INVALID_ATTACHMENT otherwise). Returns the attachments with the verified name, size and type.
 */
export async function validateAttachments(
  deps: FileDeps,
  callerId: string,
  conversationId: string,
  messageType: string,
  attachments: Record<string, unknown> | null | undefined,
): Promise<CheckedAttachments> {
  const fileKey = attachments?.file_key;
  if (!attachments || fileKey === undefined) {
    if (messageType === "file") throw invalid("INVALID_ATTACHMENT", "a file message needs attachments.file_key (upload the file first)");
    return { attachments: attachments ?? null, attach: async () => {} };
  }
  if (typeof fileKey !== "string" || fileKey.length === 0 || fileKey.length > 1024)
    throw invalid("INVALID_ATTACHMENT", "attachments.file_key must be the file_key of an upload");
  const found = await deps.metadata.getFile(fileKey);
  // The uploader may send their file anywhere they are a member; anyone may send again a file that
  // was already sent in this very conversation (forwarding from elsewhere is refused).
  const allowed = !!found && (found.ownerId === callerId || (await deps.metadata.fileAttachedIn(fileKey, conversationId)));
  if (!found || !allowed) throw forbidden("FILE_NOT_ACCESSIBLE", "you can attach only your own files or files already sent in this conversation");
  const { file, problem } = await verifyFile(deps, found);
  if (file.state === "rejected") throw invalid("INVALID_ATTACHMENT", `the file was rejected: ${problem ?? "it did not match what was declared"}`);
  if (file.state !== "ready")
    throw invalid("INVALID_ATTACHMENT", file.uploadId ? "complete the multipart upload before sending the file" : "the file has not been uploaded yet");
  const name = typeof attachments.original_name === "string" && attachments.original_name.trim() ? sanitizeFilename(attachments.original_name) : file.filename;
  return {
    attachments: { ...attachments, file_key: file.key, original_name: name, size: file.size, content_type: file.contentType },
    attach: () => deps.metadata.attachFile(file.key, conversationId),
  };
}

/** Uploads (presigned POST and multipart), verification and presigned downloads. */
export function createFileService(deps: FileDeps) {
  const s = settingsOf(deps);
  const uploadTtl = Math.min(s.uploadTtlSec, MAX_UPLOAD_TTL_SEC);

  /** Normalizes and checks a declared upload; returns the new record (not stored yet). */
  function declare(callerId: string, b: UploadBody, maxBytes: number, hint: string): FileRecord {
    if (b.size_bytes > maxBytes) throw tooLarge("FILE_TOO_LARGE", `files are limited to ${maxBytes} bytes${hint}`);
    const contentType = normalizeContentType(b.content_type);
    if (!typeAllowed(contentType, s.allowedTypes)) throw invalid("CONTENT_TYPE_NOT_ALLOWED", `files of type ${contentType} are not accepted`);
    const filename = sanitizeFilename(b.filename);
    const key = `u/${callerId}/${randomUUID()}/${keySafeName(filename)}`;
    return { key, ownerId: callerId, filename, contentType, size: b.size_bytes, state: "uploading", uploadId: null, createdAt: Date.now() };
  }

  /** The caller's open (or finished) multipart upload behind `token`; 404 for anything else. */
  async function ownUpload(callerId: string, token: string): Promise<FileRecord> {
    const id = decodeUploadId(token);
    const f = id ? await deps.metadata.getFile(id.key) : null;
    if (!id || !f || f.ownerId !== callerId || f.uploadId !== id.uploadId) throw notFound("NO_SUCH_UPLOAD", "no such multipart upload");
    return f;
  }

  const describe = (f: FileRecord) => ({ file_key: f.key, filename: f.filename, content_type: f.contentType, size_bytes: f.size });

  return {
    /** A presigned POST whose policy pins the key, the exact size and the content type. */
    async presignUpload(callerId: string, b: UploadBody) {
      const blobs = blobsOf(deps);
      const multipartHint = b.size_bytes <= s.multipartMaxBytes ? " in one request: use a multipart upload (POST /v1/files/multipart)" : "";
      const f = declare(callerId, b, s.maxBytes, multipartHint);
      await deps.metadata.putFile(f);
      const post = await blobs.presignPost({ key: uploadKey(f.key), contentType: f.contentType, minSize: f.size, maxSize: f.size, expiresSec: uploadTtl });
      return { ...describe(f), upload_url: post.url, fields: post.fields, method: "POST", expires_at: iso(Date.now() + uploadTtl * 1000) };
    },

    /** Starts a multipart upload and presigns a PUT URL for every part. */
    async startMultipart(callerId: string, b: UploadBody) {
      const blobs = blobsOf(deps);
      const f = declare(callerId, b, s.multipartMaxBytes, "");
      const uploadId = await blobs.createMultipart(uploadKey(f.key), f.contentType);
      try {
        await deps.metadata.putFile({ ...f, uploadId });
      } catch (err) {
        await blobs.abortMultipart(uploadKey(f.key), uploadId).catch(() => {});
        throw err;
      }
      const partSize = partSizeFor(f.size, s);
      const count = Math.ceil(f.size / partSize);
      const parts = await Promise.all(
        Array.from({ length: count }, async (_, i) => ({ part_number: i + 1, url: await blobs.presignPart(uploadKey(f.key), uploadId, i + 1, uploadTtl) })),
      );
      return { ...describe(f), upload_id: encodeUploadId(f.key, uploadId), part_size: partSize, parts, expires_at: iso(Date.now() + uploadTtl * 1000) };
    },

    /** Assembles the parts, then verifies the object; repeated calls after success answer the same. */
    async completeMultipart(callerId: string, token: string, b: CompleteBody) {
      const f = await ownUpload(callerId, token);
      if (f.state === "rejected") throw conflict("UPLOAD_CLOSED", "this upload was aborted, expired or failed verification");
      if (f.state === "uploading") {
        const parts = [...b.parts].sort((x, y) => x.part_number - y.part_number);
        if (parts.some((p, i) => i > 0 && p.part_number === parts[i - 1]!.part_number)) throw invalid("INVALID_PART", "each part_number may appear once");
        await blobsOf(deps).completeMultipart(uploadKey(f.key), f.uploadId!, parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })));
        const { file, problem } = await verifyFile(deps, f);
        if (file.state === "rejected") throw invalid("FILE_REJECTED", `the file was rejected: ${problem ?? "it was aborted meanwhile"}`);
        if (file.state !== "ready") throw conflict("UPLOAD_INCOMPLETE", "the storage does not show the assembled file yet; retry");
      }
      return { ...describe(f), state: "ready" as const };
    },

    /** Aborts an open multipart upload (idempotent); a completed one cannot be aborted. */
    async abortMultipart(callerId: string, token: string) {
      const f = await ownUpload(callerId, token);
      if (f.state === "ready") throw conflict("UPLOAD_COMPLETED", "this upload is complete; it can no longer be aborted");
      if (f.state === "uploading" && (await rejectFile(deps, f)).state === "ready")
        throw conflict("UPLOAD_COMPLETED", "this upload is complete; it can no longer be aborted");
      return { status: "aborted" as const, file_key: f.key };
    },

    /**
     * A short-lived presigned GET for the uploader or a member of a conversation where the file was
     * sent; anyone else (and any unknown key) gets the same 403 FILE_NOT_ACCESSIBLE.
     */
    async view(callerId: string, key: string, expiresIn?: number) {
      const blobs = blobsOf(deps);
      const found = await deps.metadata.getFile(key);
      const allowed = !!found && (found.ownerId === callerId || (await deps.metadata.fileVisibleTo(key, callerId)));
      if (!found || !allowed) throw forbidden("FILE_NOT_ACCESSIBLE", "this file does not exist or you may not view it");
      const { file } = await verifyFile(deps, found);
      if (file.state !== "ready") throw conflict("FILE_NOT_READY", file.state === "rejected" ? "the file was rejected" : "the file has not been uploaded yet");
      const ttl = Math.max(1, Math.min(s.viewTtlSec, expiresIn ?? s.viewTtlSec));
      const url = await blobs.presignGet(file.key, ttl, { contentDisposition: contentDisposition(file.contentType, file.filename) });
      return { url, expires_at: iso(Date.now() + ttl * 1000), ...describe(file) };
    },
  };
}

/** The files service. */
export type FileService = ReturnType<typeof createFileService>;
