import { invalid } from "@chat4all/kernel";

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
