// The web client as a browser first meets it: the page, its modules and stylesheet, served by the gateway.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

let p: Platform;
beforeAll(async () => {
  p = await startEmbedded();
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

/** Every `/assets/…` URL a page or module refers to. */
const assetRefs = (text: string) => [...text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"|from "\.\/([^"]+)"/g)].map((m) => m[1] ?? `/assets/${m[2]}`);

describe("web client", () => {
  test("web: GET / returns the HTML page with a strict CSP, nosniff and an ETag", async () => {
    const res = await fetch(`${p.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self' ws: wss:", "img-src 'self' data: blob:", "frame-ancestors 'none'"])
      expect(csp).toContain(directive);
    expect(csp).not.toContain("unsafe");
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain('<script type="module" src="/assets/app.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script: the CSP would block it
    expect(html).not.toMatch(/\sstyle="/); // no inline style either
    expect(html).not.toMatch(/(https?:)?\/\/[a-z]/i); // nothing from another origin (no CDN, no fonts)

    const etag = res.headers.get("etag") as string;
    expect(etag).toBeTruthy();
    expect((await fetch(`${p.url}/`, { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  test("web: every module and stylesheet the page loads is served with its content type", async () => {
    const html = await (await fetch(`${p.url}/`)).text();
    const seen = new Set<string>();
    const queue = assetRefs(html);
    expect(queue).toContain("/assets/app.js");
    expect(queue).toContain("/assets/style.css");
    while (queue.length > 0) {
      const path = queue.shift() as string;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await fetch(`${p.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const type = res.headers.get("content-type");
      if (path.endsWith(".js")) {
        expect(type).toBe("text/javascript; charset=utf-8");
        queue.push(...assetRefs(await res.text()));
      } else if (path.endsWith(".css")) expect(type).toBe("text/css; charset=utf-8");
      else if (path.endsWith(".svg")) expect(type).toBe("image/svg+xml");
      else await res.arrayBuffer();
    }
    for (const module of ["/assets/app.js", "/assets/api.js", "/assets/live.js", "/assets/chat.js", "/assets/dom.js"]) expect(seen).toContain(module);
  });

  test("web: a missing asset is a JSON 404, the API still answers beside the page, and the repo stays out of reach", async () => {
    const missing = await fetch(`${p.url}/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "NOT_FOUND", message: expect.any(String) } });
    expect((await fetch(`${p.url}/health`)).status).toBe(200);
    expect((await fetch(`${p.url}/v1/conversations`)).status).toBe(401);
    for (const path of ["/assets/..%2f..%2f..%2fpackage.json", "/assets/%2e%2e/%2e%2e/%2e%2e/package.json", "/assets/../../../package.json"]) {
      const res = await fetch(`${p.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('"workspaces"');
    }
    expect((await fetch(`${p.url}/assets/app.js`, { method: "POST" })).status).toBe(405);
  });
});
