// Files on the cluster as a client sees them: two gateways (:3000, :3001), bytes going straight
// to MinIO through presigned URLs, attachments, views, multipart, and the abandoned-upload sweeper.
import { beforeAll, describe, expect, test } from "bun:test";
import { createMinioBlobStore } from "@chat4all/blob";
import { createUploadSweeper } from "@chat4all/gateway";
import { createLogger } from "@chat4all/kernel";
import { createHttpTransport, createMetadataClient } from "@chat4all/rpc";
import { call, newUser } from "../support/client.ts";
import { bytes, sha, upload } from "../support/files.ts";

for (const v of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[v];

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the servers (bash infra/up.sh) and load infra/env.sh`);
  return v;
}

const A = process.env.C4A_GATEWAY_A ?? "http://127.0.0.1:3000";
const B = process.env.C4A_GATEWAY_B ?? "http://127.0.0.1:3001";
const METADATA_URL = process.env.C4A_METADATA_URL ?? "http://127.0.0.1:3100";
const MAX_BYTES = Number(process.env.C4A_FILE_MAX_BYTES ?? 100 * 1024 * 1024);
const s3 = {
  endpoint: env("C4A_S3_ENDPOINT"),
  accessKey: env("C4A_S3_ACCESS_KEY"),
  secretKey: env("C4A_S3_SECRET_KEY"),
  bucket: env("C4A_S3_BUCKET"),
  region: process.env.C4A_S3_REGION,
};
const minio = createMinioBlobStore(s3);

type User = Awaited<ReturnType<typeof newUser>>;
let alice: User;
let bob: User;
let carol: User;
let conversationId: string;
beforeAll(async () => {
  [alice, bob, carol] = (await Promise.all([newUser(A, "alice"), newUser(B, "bob"), newUser(A, "carol")])) as [User, User, User];
  const conv = await call(A, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } });
  expect(conv.status).toBe(201);
  conversationId = conv.body.conversation_id;
}, 60_000);


const presign = (base: string, u: User, filename: string, content_type: string, size_bytes: number) =>
  call(base, "POST", "/v1/files/presigned-url", { token: u.token, body: { filename, content_type, size_bytes } });
const startMultipart = (base: string, u: User, filename: string, content_type: string, size_bytes: number) =>
  call(base, "POST", "/v1/files/multipart", { token: u.token, body: { filename, content_type, size_bytes } });


const sendFile = (base: string, u: User, conv: string, attachments: Record<string, unknown>) =>
  call(base, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conv, message_type: "file", content: "", attachments } });
const view = (base: string, u: User, key: string, query = "") =>
  call(base, "GET", `/v1/files/view/${key.split("/").map(encodeURIComponent).join("/")}${query}`, { token: u.token });

async function download(url: string) {
  const res = await fetch(url);
  return { res, body: new Uint8Array(await res.arrayBuffer()) };
}

async function uploaded(data: Uint8Array<ArrayBuffer>, filename: string, type: string) {
  const r = await presign(A, alice, filename, type, data.length);
  expect(r.status).toBe(200);
  expect(await upload(r.body, data)).toBe(204);
  return r.body.file_key as string;
}

describe("files on MinIO (cluster)", () => {
  test("files/minio: upload straight to MinIO, attach on one gateway, download as a member through the other; others refused", async () => {
    const data = bytes(4096, 5);
    const r = await presign(A, alice, "scan 01.pdf", "application/pdf", data.length);
    expect(r.status).toBe(200);
    expect(new URL(r.body.upload_url).origin).toBe(new URL(s3.endpoint).origin);
    expect(r.body.file_key.startsWith(`u/${alice.id}/`)).toBe(true);
    expect(await upload(r.body, data)).toBe(204);
    const key = r.body.file_key as string;

    expect((await view(B, bob, key)).status).toBe(403);
    expect((await sendFile(A, alice, conversationId, { file_key: key, original_name: "scan 01.pdf", size: data.length })).status).toBe(202);
    const v = await view(B, bob, key);
    expect(v.status).toBe(200);
    expect(new URL(v.body.url).origin).toBe(new URL(s3.endpoint).origin);
    const got = await download(v.body.url);
    expect(got.res.status).toBe(200);
    expect(got.res.headers.get("content-type")).toBe("application/pdf");
    expect(got.res.headers.get("content-disposition")).toStartWith("inline;");
    expect(sha(got.body)).toBe(sha(data));

    for (const probe of [await view(A, carol, key), await view(B, carol, `u/${alice.id}/${crypto.randomUUID()}/x.pdf`)]) {
      expect(probe.status).toBe(403);
      expect(probe.body.error.code).toBe("FILE_NOT_ACCESSIBLE");
    }
    const own = (await call(A, "POST", "/v1/conversations", { token: carol.token, body: { type: "private", members: [bob.id] } })).body.conversation_id;
    const stolen = await sendFile(A, carol, own, { file_key: key });
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe("FILE_NOT_ACCESSIBLE");
  });

  test("files/minio: re-using a still valid upload URL after the file was sent changes nothing members download", async () => {
    const first = bytes(2048, 8);
    const r = await presign(A, alice, "photo.png", "image/png", first.length);
    expect(await upload(r.body, first)).toBe(204);
    const key = r.body.file_key as string;
    expect((await sendFile(A, alice, conversationId, { file_key: key })).status).toBe(202);
    expect(await upload(r.body, bytes(2048, 9))).toBe(204); // MinIO accepts it: the policy has not expired
    const got = await download((await view(B, bob, key)).body.url);
    expect(got.res.status).toBe(200);
    expect(sha(got.body)).toBe(sha(first));
  });

  test("files/minio: MinIO itself refuses uploads that break the policy and stores nothing", async () => {
    const r = await presign(A, alice, "exact.png", "image/png", 1000);
    const key = r.body.file_key as string;
    const refused = [
      await upload(r.body, bytes(1001)),
      await upload(r.body, bytes(999)),
      await upload(r.body, bytes(1000), { "Content-Type": "text/html" }),
    ];
    for (const status of refused) expect(status >= 400 && status < 500).toBe(true);
    expect(await minio.stat(key)).toBeNull();
    const early = await sendFile(B, alice, conversationId, { file_key: key });
    expect(early.status).toBe(400);
    expect(early.body.error.code).toBe("INVALID_ATTACHMENT");
    expect(await upload(r.body, bytes(1000))).toBe(204);
    expect((await sendFile(B, alice, conversationId, { file_key: key })).status).toBe(202);
  });

  test("files/minio: presign refuses a size above the maximum (413) and a type off the allow-list (400)", async () => {
    const big = await presign(A, alice, "big.mp4", "video/mp4", MAX_BYTES + 1);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("FILE_TOO_LARGE");
    const html = await presign(B, alice, "page.html", "text/html", 10);
    expect(html.status).toBe(400);
    expect(html.body.error.code).toBe("CONTENT_TYPE_NOT_ALLOWED");
  });

  test("files/minio: active content downloads as an attachment; an expired view URL is refused by MinIO", async () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>') as Uint8Array<ArrayBuffer>;
    const key = await uploaded(svg, "logo.svg", "image/svg+xml");
    expect((await sendFile(A, alice, conversationId, { file_key: key })).status).toBe(202);
    const v = await view(B, bob, key);
    const got = await download(v.body.url);
    expect(got.res.status).toBe(200);
    expect(got.res.headers.get("content-disposition")).toStartWith("attachment;");

    const short = await view(A, alice, key, "?expires_in=1");
    expect(short.status).toBe(200);
    await Bun.sleep(2_500);
    expect((await download(short.body.url)).res.status).toBe(403);
  });

  test("files/minio: a multipart upload of more than one part is assembled by MinIO, verified and shared", async () => {
    const probe = await startMultipart(A, alice, "probe.mp4", "video/mp4", 1);
    const partSize = probe.body.part_size as number;
    await call(A, "DELETE", `/v1/files/multipart/${probe.body.upload_id}`, { token: alice.token });
    const data = bytes(partSize + 1000, 11);
    const start = await startMultipart(A, alice, "clip.mp4", "video/mp4", data.length);
    expect(start.status).toBe(200);
    expect(start.body.parts).toHaveLength(2);
    const etags = [];
    for (const part of start.body.parts) {
      expect(new URL(part.url).origin).toBe(new URL(s3.endpoint).origin);
      const res = await fetch(part.url, { method: "PUT", body: data.slice((part.part_number - 1) * partSize, part.part_number * partSize) });
      expect(res.status).toBe(200);
      etags.push({ part_number: part.part_number, etag: res.headers.get("etag")! });
    }
    const path = `/v1/files/multipart/${start.body.upload_id}`;
    expect((await call(B, "POST", `${path}/complete`, { token: bob.token, body: { parts: etags } })).status).toBe(404);
    const done = await call(B, "POST", `${path}/complete`, { token: alice.token, body: { parts: etags } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ file_key: start.body.file_key, state: "ready", size_bytes: data.length });
    expect(await minio.stat(start.body.file_key)).toEqual({ size: data.length, contentType: "video/mp4" });
    expect((await sendFile(A, alice, conversationId, { file_key: start.body.file_key })).status).toBe(202);
    const v = await view(A, bob, start.body.file_key);
    const got = await download(v.body.url);
    expect(sha(got.body)).toBe(sha(data));
    await minio.delete(start.body.file_key);
  }, 60_000);

  test("files/minio: an aborted multipart upload takes no more parts and cannot be completed", async () => {
    const start = await startMultipart(A, alice, "gone.zip", "application/zip", 100);
    const path = `/v1/files/multipart/${start.body.upload_id}`;
    expect((await call(B, "DELETE", path, { token: alice.token })).status).toBe(200);
    expect((await fetch(start.body.parts[0].url, { method: "PUT", body: bytes(100) })).status).toBe(404);
    expect((await call(A, "POST", `${path}/complete`, { token: alice.token, body: { parts: [{ part_number: 1, etag: "x" }] } })).status).toBe(409);
  });

  test("files/minio: the sweeper aborts an abandoned multipart upload in MinIO and rejects its record", async () => {
    const dave = await newUser(A, "dave");
    const start = await startMultipart(A, dave, "left.zip", "application/zip", 100);
    const url = start.body.parts[0].url as string;
    expect((await fetch(url, { method: "PUT", body: bytes(100) })).status).toBe(200);
    // The gateways' own sweepers use C4A_FILE_ABANDON_AFTER_SEC (a day by default); this one, over the
    // same metadata service and bucket, treats a second as abandoned but touches only this user's uploads.
    const metadata = createMetadataClient(createHttpTransport(METADATA_URL));
    const sweeper = createUploadSweeper(
      { metadata, blobs: minio, log: createLogger("silent") },
      { abandonAfterSec: 1, sweepIntervalSec: 1, batch: 1000, filter: (f) => f.ownerId === dave.id },
    );
    await Bun.sleep(1_200);
    expect(await sweeper.sweepOnce()).toBe(1);
    expect((await metadata.getFile(start.body.file_key))?.state).toBe("rejected");
    expect((await fetch(url, { method: "PUT", body: bytes(100) })).status).toBe(404);
    const done = await call(B, "POST", `/v1/files/multipart/${start.body.upload_id}/complete`, { token: dave.token, body: { parts: [{ part_number: 1, etag: "x" }] } });
    expect(done.status).toBe(409);
    expect(done.body.error.code).toBe("UPLOAD_CLOSED");
  });
});
