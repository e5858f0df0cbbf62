import { describe, expect, test } from "bun:test";
import { describeBlobStoreContract } from "@chat4all/blob/contract";
import { createMinioBlobStore } from "@chat4all/blob";

for (const v of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[v];

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the servers (bash infra/up.sh minio) and load infra/env.sh`);
  return v;
}

const config = {
  endpoint: env("C4A_S3_ENDPOINT"),
  accessKey: env("C4A_S3_ACCESS_KEY"),
  secretKey: env("C4A_S3_SECRET_KEY"),
  bucket: env("C4A_S3_BUCKET"),
  region: process.env.C4A_S3_REGION,
};

// Every key of this run lives under its own prefix; the suite deletes what it wrote.
describeBlobStoreContract("minio", async () => createMinioBlobStore(config), {
  keyPrefix: `test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
});

describe("minio blob store", () => {
  test("minio blob store: presigned URLs point at the configured endpoint, which clients reach directly", async () => {
    const store = createMinioBlobStore(config);
    const origin = new URL(config.endpoint).origin;
    const post = await store.presignPost({ key: "x/y.bin", contentType: "image/png", minSize: 1, maxSize: 10, expiresSec: 60 });
    expect(new URL(post.url).origin).toBe(origin);
    expect(new URL(await store.presignGet("x/y.bin", 60)).origin).toBe(origin);
    expect(new URL(await store.presignPart("x/y.bin", "some-upload", 3, 60)).origin).toBe(origin);
    const part = new URL(await store.presignPart("x/y.bin", "some-upload", 3, 60));
    expect(part.searchParams.get("partNumber")).toBe("3");
    expect(part.searchParams.get("uploadId")).toBe("some-upload");
  });
});
