import { createHash, createHmac, timingSafeEqual } from "node:crypto";

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

/** Where an object lives under `objects/`: a hash of its key, sharded by its first byte. */
export function objectPath(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 2)}/${h}`;
}

/** S3-style quoted MD5 ETag. */
export const quoteEtag = (hex: string) => `"${hex}"`;
/** An ETag without quotes (and W/ prefix), lower-case. */
export const bareEtag = (etag: string) => etag.replace(/^W\//, "").replaceAll('"', "").toLowerCase();
