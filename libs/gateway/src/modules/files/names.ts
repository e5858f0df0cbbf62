import { invalid } from "@chat4all/kernel";

const MAX_NAME_BYTES = 200;
const MAX_KEY_NAME = 100;
// C0/C1 controls, bidi overrides/isolates, zero-width and BOM characters: invisible or reorder text.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
// Reserved on common file systems or meaningful in headers and paths.
const RESERVED = /[\\/:*?"<>|]/g;
const EXTENSION = /\.[\p{L}\p{N}]{1,16}$/u;
const TOKEN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** Truncates a string to at most `max` UTF-8 bytes without splitting a character. */
function truncateBytes(s: string, max: number): string {
  let out = "";
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * A display-safe file name: the last path segment, NFC, without control/invisible characters or
 * reserved punctuation, trimmed of dots and spaces, at most 200 UTF-8 bytes with its extension kept;
 * "file" when nothing is left.
 */
export function sanitizeFilename(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? "";
  let name = base.normalize("NFC").replace(INVISIBLE, "").replace(RESERVED, "_").replace(/\s+/g, " ");
  name = name.replace(/^[\s.]+|[\s.]+$/g, "");
  if (!name) return "file";
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const ext = EXTENSION.exec(name)?.[0] ?? "";
  const stem = truncateBytes(name.slice(0, name.length - ext.length), MAX_NAME_BYTES - Buffer.byteLength(ext)).replace(/[\s.]+$/, "");
  return (stem || "file") + ext;
}

/** The sanitized name reduced to `[A-Za-z0-9._-]` (accents dropped, extension kept), ≤ 100 chars: the last segment of an object key. */
export function keySafeName(name: string): string {
  const ascii = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/_+/g, "_");
  const ext = /\.[A-Za-z0-9]{1,16}$/.exec(ascii)?.[0] ?? "";
  const stem = ascii.slice(0, ascii.length - ext.length).replace(/^[._-]+|[._-]+$/g, "") || "file";
  return stem.slice(0, MAX_KEY_NAME - ext.length) + ext;
}

/** A content type lowercased and stripped of parameters; throws 400 INVALID_CONTENT_TYPE unless it is `type/subtype`. */
export function normalizeContentType(raw: string): string {
  const t = (raw.split(";")[0] ?? "").trim().toLowerCase();
  if (!TOKEN.test(t)) throw invalid("INVALID_CONTENT_TYPE", `content_type ${JSON.stringify(raw.slice(0, 100))} is not a media type`);
  return t;
}

/** Whether a normalized content type matches the allow-list (`image/*` and `*\/*` wildcards). */
export function typeAllowed(type: string, allowed: readonly string[]): boolean {
  const major = type.slice(0, type.indexOf("/"));
  return allowed.some((a) => a === type || a === "*/*" || a === `${major}/*`);
}

// Types a browser renders inline without running anything; everything else downloads.
const INLINE_TYPES = new Set(["application/pdf", "text/plain"]);
const INLINE_MAJOR = new Set(["image", "video", "audio"]);
const ACTIVE = new Set(["image/svg+xml"]);

/** Whether a stored type may be shown inline (media, PDF, plain text); active content (HTML, SVG, XML, scripts…) is never inline. */
export function isInlineSafe(type: string): boolean {
  if (ACTIVE.has(type)) return false;
  return INLINE_TYPES.has(type) || INLINE_MAJOR.has(type.slice(0, type.indexOf("/")));
}

/** `Content-Disposition` for a download: `inline` only for inline-safe types, with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(type: string, filename: string): string {
  const kind = isInlineSafe(type) ? "inline" : "attachment";
  const fallback = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
