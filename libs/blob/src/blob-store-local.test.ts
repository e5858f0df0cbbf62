import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBlobStore } from "./blob-store-local.ts";
import { describeBlobStoreContract } from "./contract.ts";
import { createBlobStore } from "./create.ts";

for (const v of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[v];

const root = mkdtempSync(join(tmpdir(), "c4a-blob-"));
const secret = "test-secret";
let handler: (r: Request) => Promise<Response | undefined> = async () => undefined;
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (r) => (await handler(r)) ?? new Response("not mine", { status: 404 }) });
const publicBaseUrl = `http://127.0.0.1:${server.port}`;
const make = async () => {
  const store = createLocalBlobStore({ root, secret, publicBaseUrl });
  handler = (r) => store.handle!(r);
  return store;
};
afterAll(() => {
  server.stop(true);
  rmSync(root, { recursive: true, force: true });
});

describeBlobStoreContract("local", make);

describe("local blob store", () => {
  test("local blob store: keys that could escape the folder are refused", async () => {
    const store = await make();
    await store.init();
    for (const key of ["../etc/passwd", "a/../../b", "/abs", "a\0b", "a//b", "./a", "a\\..\\b", ""]) {
      await expect(store.presignPost({ key, contentType: "text/plain", minSize: 0, maxSize: 10, expiresSec: 60 })).rejects.toThrow();
      await expect(store.stat(key)).rejects.toThrow();
      await expect(store.createMultipart(key, "text/plain")).rejects.toThrow();
    }
    const res = await fetch(`${publicBaseUrl}/blobs/o/..%2F..%2Fetc%2Fpasswd?exp=9999999999&sig=x`);
    expect(res.status).toBe(400);
  });

  test("local blob store: an endless upload is cut off at maxSize with 400 and leaves no temp file", async () => {
    const store = await make();
    await store.init();
    const { url, fields } = await store.presignPost({ key: "endless.bin", contentType: "application/octet-stream", minSize: 0, maxSize: 64 * 1024, expiresSec: 60 });
    const boundary = "----c4a-test-boundary";
    const enc = new TextEncoder();
    let head = "";
    for (const [k, v] of Object.entries(fields)) head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
    head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    let sent = 0;
    const chunk = new Uint8Array(16 * 1024).fill(7);
    const body = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(enc.encode(head)),
      pull: (c) => {
        sent += chunk.length;
        c.enqueue(chunk); // never ends
      },
    });
    const req = new Request(url, { method: "POST", body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } });
    const res = await store.handle!(req);
    expect(res?.status).toBe(400);
    expect(((await res!.json()) as { code: string }).code).toBe("EntityTooLarge");
    expect(sent).toBeGreaterThan(64 * 1024);
    expect(sent).toBeLessThan(1024 * 1024);
    expect(await store.stat("endless.bin")).toBeNull();
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });

  test("local blob store: downloads are sent with nosniff, and requests outside the prefix are not handled", async () => {
    const store = await make();
    await store.init();
    const { url, fields } = await store.presignPost({ key: "page.html", contentType: "text/html", minSize: 0, maxSize: 100, expiresSec: 60 });
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob(["<b>hi</b>"]), "page.html");
    expect((await fetch(url, { method: "POST", body: form })).status).toBe(204);
    const got = await fetch(await store.presignGet("page.html", 60));
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await got.text()).toBe("<b>hi</b>");
    expect(await store.handle!(new Request(`${publicBaseUrl}/v1/messages`))).toBeUndefined();
  });

  test("local blob store: the factory builds it and names an unknown backend", () => {
    expect(typeof createBlobStore({ backend: "local", root, secret, publicBaseUrl }).handle).toBe("function");
    expect(() => createBlobStore({ backend: "gcs" } as never)).toThrow('unknown blob store backend: "gcs"');
  });
});
