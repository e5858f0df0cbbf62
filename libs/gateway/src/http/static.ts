import { readFile, realpath, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import type { Mount } from "../server.ts";
import { errorBody } from "./errors.ts";

/** Content types of the files the mount serves; any other extension is a 404. */
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** Options of the static mount. */
export interface StaticMountOptions {
  /** Extra origins allowed in `img-src` (e.g. the S3 endpoint when images are shown inline). */
  imgOrigins?: string[];
}

/** The Content-Security-Policy of every response of the mount. */
export function contentSecurityPolicy(opts: StaticMountOptions = {}): string {
  const extra = (opts.imgOrigins ?? []).map((o) => {
    const origin = new URL(o).origin;
    if (origin === "null") throw new Error(`static mount: "${o}" has no origin`);
    return ` ${origin}`;
  });
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${extra.join("")}`,
    "connect-src 'self' ws: wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A served file, kept while its size and mtime stay the same. */
interface Entry {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Serves a folder of static files: `/` (and `/index.html`) is `index.html`, `/assets/<path>` is
 * `<dir>/<path>`. GET and HEAD only (405 otherwise); only known file types, never dotfiles, never
 * anything outside the folder (`..`, encoded or not, backslashes, symlinks leading out → 404).
 * Every response carries nosniff and a strict CSP; files carry an ETag, `Cache-Control: no-cache`,
 * and answer a matching `If-None-Match` with 304. Other paths are not handled (undefined).
 */
export function createStaticMount(dir: string, opts: StaticMountOptions = {}): Mount {
  const root = resolve(dir);
  let realRoot: string | undefined;
  const csp = contentSecurityPolicy(opts);
  const cache = new Map<string, Entry>();
  const baseHeaders = () => ({
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
  });
  const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}) =>
    Response.json(errorBody(code, message), { status, headers: { ...baseHeaders(), ...extra } });
  const notFound = () => fail(404, "NOT_FOUND", "no such file");

  /** The absolute path of a request's file, or undefined when the name may not be served. */
  function locate(name: string): string | undefined {
    if (name.length === 0 || name.length > 256 || name.includes("\\") || name.includes("\0")) return undefined;
    const segments = name.split("/");
    if (segments.some((s) => s === "" || s.startsWith("."))) return undefined; // also ".", ".." and dotfiles
    if (!CONTENT_TYPES[extname(name).toLowerCase()]) return undefined;
    const full = resolve(root, ...segments);
    return full.startsWith(root + sep) ? full : undefined;
  }

  async function load(full: string): Promise<Entry | undefined> {
    try {
      realRoot ??= await realpath(root);
      // A symlink inside the folder must not lead out of it.
      const real = await realpath(full);
      if (!real.startsWith(realRoot + sep)) return undefined;
      const st = await stat(real);
      if (!st.isFile()) return undefined;
      const hit = cache.get(full);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
      const body = new Uint8Array(await readFile(real));
      const entry = { mtimeMs: st.mtimeMs, size: body.byteLength, etag: `"${Bun.hash(body).toString(36)}-${body.byteLength.toString(36)}"`, body };
      if (cache.size >= 512) cache.clear();
      cache.set(full, entry);
      return entry;
    } catch {
      return undefined; // missing, unreadable, or a dangling link: all the same to a client
    }
  }

  return async (req) => {
    const url = req.url;
    const raw = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const end = raw.search(/[?#]/);
    const path = end < 0 ? raw : raw.slice(0, end);
    let name: string;
    if (path === "/" || path === "/index.html") name = "index.html";
    else if (path.startsWith("/assets/")) {
      try {
        name = decodeURIComponent(path.slice("/assets/".length));
      } catch {
        return notFound();
      }
    } else return undefined;
    if (req.method !== "GET" && req.method !== "HEAD") return fail(405, "METHOD_NOT_ALLOWED", "only GET and HEAD are allowed", { allow: "GET, HEAD" });
    const full = locate(name);
    const entry = full ? await load(full) : undefined;
    if (!full || !entry) return notFound();
    const headers: Record<string, string> = {
      ...baseHeaders(),
      "content-type": CONTENT_TYPES[extname(full).toLowerCase()] as string,
      etag: entry.etag,
      "cache-control": "no-cache",
    };
    if (matches(req.headers.get("if-none-match"), entry.etag)) return new Response(null, { status: 304, headers });
    headers["content-length"] = String(entry.size);
    return new Response(req.method === "HEAD" ? null : entry.body, { status: 200, headers });
  };
}

/** Whether an `If-None-Match` header names this ETag (weak comparison, `*` matches all). */
function matches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}
