import { createHmac, timingSafeEqual } from "node:crypto";

/** Name of the header that carries a webhook's signature (as Meta's platforms name it). */
export const SIGNATURE_HEADER = "x-hub-signature-256";

/** The `X-Hub-Signature-256` value of a raw body: `sha256=<hex HMAC-SHA256(secret, body)>`. */
export function signBody(secret: string, rawBody: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

/**
 * True only when `header` is `sha256=<64 hex digits>` and equals the HMAC-SHA256 of the exact raw
 * bytes under `secret`. The comparison of the digests is constant-time; a missing, malformed or
 * wrong header, or an empty secret, is false.
 */
export function verifySignature(secret: string, rawBody: string | Uint8Array, header: string | null | undefined): boolean {
  if (!secret || typeof header !== "string") return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const given = Buffer.from(m[1] as string, "hex");
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
