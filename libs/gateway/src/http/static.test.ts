import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contentSecurityPolicy, createStaticMount } from "./static.ts";

// <tmp>/package.json and <tmp>/a/secret.txt lie outside the served folder <tmp>/a/public.
const tmp = mkdtempSync(join(tmpdir(), "c4a-static-"));
const pub = join(tmp, "a", "public");
mkdirSync(join(pub, "img"), { recursive: true });
writeFileSync(join(tmp, "package.json"), '{"name":"outside"}');
writeFileSync(join(tmp, "a", "secret.txt"), "top secret");
writeFileSync(join(pub, "index.html"), "<!doctype html><title>chat</title>");
writeFileSync(join(pub, "app.js"), "export const x = 1;");
writeFileSync(join(pub, "style.css"), "body{margin:0}");
writeFileSync(join(pub, "img", "icon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
writeFileSync(join(pub, ".env"), "SECRET=1");
writeFileSync(join(pub, "notes.exe"), "MZ");
symlinkSync(join(tmp, "a", "secret.txt"), join(pub, "leak.txt"));
const mount = createStaticMount(pub);
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: async (req) => (await mount(req)) ?? new Response("fallthrough", { status: 418 }),
});
afterAll(() => {
  server.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

const get = async (path: string, init: RequestInit = {}) => (await mount(new Request(`http://chat.test${path}`, init))) as Response;
/** A request whose URL is not normalized (as a proxy or another runtime might hand it over). */
const rawGet = async (path: string) => mount({ url: `http://chat.test${path}`, method: "GET", headers: new Headers() } as Request);
/** Sends a raw HTTP/1.1 request line to the test server, so no client normalizes the path. */
async function rawHttp(target: string): Promise<string> {
  let out = "";
  const { promise, resolve } = Promise.withResolvers<string>();
  await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port as number,
    socket: {
      open: (s) => void s.write(`GET ${target} HTTP/1.1\r\nHost: chat.test\r\nConnection: close\r\n\r\n`),
      data: (_s, d) => void (out += new TextDecoder().decode(d)),
      close: () => resolve(out),
      error: () => resolve(out),
    },
  });
  return promise;
}

describe("static mount", () => {
  test("static: / serves index.html as HTML with nosniff, no-cache, an ETag and the strict CSP", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe("<!doctype html><title>chat</title>");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).toContain("img-src 'self' data: blob:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect((await get("/?lang=pt")).status).toBe(200);
  });

  test("static: assets are served with the content type of their extension", async () => {
    const cases: [string, string, string][] = [
      ["/assets/app.js", "text/javascript; charset=utf-8", "export const x = 1;"],
      ["/assets/style.css", "text/css; charset=utf-8", "body{margin:0}"],
      ["/assets/img/icon.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"],
      ["/assets/index.html", "text/html; charset=utf-8", "<!doctype html><title>chat</title>"],
    ];
    for (const [path, type, body] of cases) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
      expect(await res.text()).toBe(body);
    }
  });

  test("static: paths outside / and /assets/ are left to the next handler", async () => {
    for (const path of ["/v1/conversations", "/ws", "/assetsx/app.js", "/assets", "/docs", "/package.json"])
      expect(await mount(new Request(`http://chat.test${path}`))).toBeUndefined();
  });

  test("static: a missing asset, a dotfile or an unknown type is a 404 in the API error shape", async () => {
    for (const path of ["/assets/nope.js", "/assets/.env", "/assets/notes.exe", "/assets/", "/assets/img", "/assets/img/", "/assets/%E0%A4%A.js"]) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const body = await res.json();
      expect(body.error.code).toBe("NOT_FOUND");
      expect(typeof body.error.message).toBe("string");
    }
  });

  test("static: traversal out of the folder is refused, plain, encoded, double-encoded or with backslashes", async () => {
    const attempts = [
      "/assets/../../package.json",
      "/assets/../secret.txt",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/assets/%2E%2E/secret.txt",
      "/assets/..%2f..%2fpackage.json",
      "/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "/assets/img/..%2f..%2fsecret.txt",
      "/assets/%252e%252e%252fsecret.txt",
      "/assets/..%5csecret.txt",
      "/assets/..\\secret.txt",
      "/assets/%2fetc%2fpasswd",
      "/assets//etc/passwd",
      "/assets/img/%00.js",
      "/assets/leak.txt", // a symlink pointing out of the folder
    ];
    for (const path of attempts) {
      for (const res of [await rawGet(path), await mount(new Request(`http://chat.test${path}`))]) {
        if (res === undefined) continue; // normalized by the URL parser to a path the mount does not own
        expect(res.status).toBe(404);
        const text = await res.text();
        expect(text).not.toContain("outside");
        expect(text).not.toContain("top secret");
      }
      const wire = await rawHttp(path);
      expect(wire).toMatch(/^HTTP\/1\.1 (404|418|400) /);
      expect(wire).not.toContain("outside");
      expect(wire).not.toContain("top secret");
    }
  });

  test("static: HEAD answers the headers of GET without a body", async () => {
    const res = await get("/assets/app.js", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("content-length")).toBe("19");
    expect(res.headers.get("etag")).toBe((await get("/assets/app.js")).headers.get("etag"));
    expect(await res.text()).toBe("");
    const wire = await fetch(`${server.url}assets/app.js`, { method: "HEAD" });
    expect(wire.status).toBe(200);
    expect(wire.headers.get("content-length")).toBe("19");
  });

  test("static: other methods get 405 with Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await get("/assets/app.js", { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect((await res.json()).error.code).toBe("METHOD_NOT_ALLOWED");
    }
  });

  test("static: a matching If-None-Match gets 304 without a body; a changed file gets a new ETag", async () => {
    const etag = (await get("/assets/style.css")).headers.get("etag") as string;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await get("/assets/style.css", { headers: { "if-none-match": header } });
      expect(res.status).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(await res.text()).toBe("");
    }
    expect((await get("/assets/style.css", { headers: { "if-none-match": '"stale"' } })).status).toBe(200);
    writeFileSync(join(pub, "style.css"), "body{margin:1px}");
    utimesSync(join(pub, "style.css"), new Date(), new Date(Date.now() + 5_000));
    const changed = await get("/assets/style.css", { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(await changed.text()).toBe("body{margin:1px}");
  });

  test("static: extra image origins join img-src as bare origins", () => {
    const csp = contentSecurityPolicy({ imgOrigins: ["http://127.0.0.1:59000/chat4all/x?y=1"] });
    expect(csp).toContain("img-src 'self' data: blob: http://127.0.0.1:59000;");
    expect(() => contentSecurityPolicy({ imgOrigins: ["not a url"] })).toThrow();
  });
});
