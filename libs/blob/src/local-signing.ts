import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { invalid } from "@chat4all/kernel";

/** HMAC-SHA256 of the newline-joined parts, base64url. */
export function sign(secret: string, parts: (string | number)[]): string {
  return createHmac("sha256", secret).update(parts.join("\n")).digest("base64url");
}

/** Constant-time check of a signature made by `sign`. */
export function verify(secret: string, parts: (string | number)[], signature: string | null | undefined): boolean {
  if (!signature) return false;
  const want = Buffer.from(sign(secret, parts));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * Throws `invalid` unless `key` is a safe object key: 1–1024 bytes, no NUL or backslash, not
 * absolute, no empty, `.` or `..` segment. (Objects are stored under a hash of the key, so a key
 * could not reach the disk as a path anyway; this keeps keys portable to S3 too.)
 */
export function checkKey(key: string): string {
  const bad =
    key.length === 0 ||
    Buffer.byteLength(key) > 1024 ||
    key.includes("\0") ||
    key.includes("\\") ||
    key.startsWith("/") ||
    key.split("/").some((s) => s === "" || s === "." || s === "..");
  if (bad) throw invalid("INVALID_FILE_KEY", `invalid object key ${JSON.stringify(key)}`);
  return key;
}

/** A key as a URL path (each segment percent-encoded). */
export const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** The inverse of `encodeKey`; null when the path is not valid percent-encoding. */
export function decodeKey(path: string): string | null {
  try {
    return path.split("/").map(decodeURIComponent).join("/");
  } catch {
    return null;
  }
}

/** Where an object lives under `objects/`: a hash of its key, sharded by its first byte. */
export function objectPath(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 2)}/${h}`;
}

/** S3-style quoted MD5 ETag. */
export const quoteEtag = (hex: string) => `"${hex}"`;
/** An ETag without quotes (and W/ prefix), lower-case. */
export const bareEtag = (etag: string) => etag.replace(/^W\//, "").replaceAll('"', "").toLowerCase();
