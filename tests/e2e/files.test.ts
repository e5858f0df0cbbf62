// Files on the embedded platform, as a client that knows only API.md: real uploads through the
// signed URLs the gateway hands out (served by the gateway's own file store), attachments, views.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, eventually, newUser } from "../support/client.ts";
import { bytes, sha, upload } from "../support/files.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

type User = Awaited<ReturnType<typeof newUser>>;
const MiB = 1024 * 1024;
const MAX_BYTES = 1 * MiB;
const PART_BYTES = 5 * MiB;

let p: Platform;
let alice: User;
let bob: User;
let carol: User;
let conversationId: string;
beforeAll(async () => {
  p = await startEmbedded({
    C4A_SEND_RATE_PER_MIN: "0",
    C4A_FILE_MAX_BYTES: String(MAX_BYTES),
    C4A_FILE_MULTIPART_MAX_BYTES: String(32 * MiB),
    C4A_FILE_PART_BYTES: String(PART_BYTES),
    C4A_FILE_VIEW_TTL_SEC: "3",
    C4A_FILE_ABANDON_AFTER_SEC: "6",
    C4A_FILE_SWEEP_INTERVAL_SEC: "1",
  });
  [alice, bob, carol] = (await Promise.all(["alice", "bob", "carol"].map((n) => newUser(p.url, n)))) as [User, User, User];
  conversationId = (await call(p.url, "POST", "/v1/conversations", { token: alice.token, body: { type: "private", members: [bob.id] } })).body.conversation_id;
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});


/** Asks for a presigned POST. */
const presign = (u: User, filename: string, content_type: string, size_bytes: number) =>
  call(p.url, "POST", "/v1/files/presigned-url", { token: u.token, body: { filename, content_type, size_bytes } });


/** Sends a file message; returns the response. */
const sendFile = (u: User, conv: string, attachments: Record<string, unknown>, message_type = "file") =>
  call(p.url, "POST", "/v1/messages", { token: u.token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conv, message_type, content: "", attachments } });

/** `GET /v1/files/view/{file_key}` with each key segment percent-encoded. */
const view = (u: User, key: string, query = "") =>
  call(p.url, "GET", `/v1/files/view/${key.split("/").map(encodeURIComponent).join("/")}${query}`, { token: u.token });

/** Uploads `data` as alice (or `who`) through a presigned POST; returns the file key. */
async function uploaded(data: Uint8Array<ArrayBuffer>, filename = "photo.png", type = "image/png", who = alice) {
  const r = await presign(who, filename, type, data.length);
  expect(r.status).toBe(200);
  expect(await upload(r.body, data)).toBe(204);
  return r.body.file_key as string;
}

async function download(url: string) {
  const res = await fetch(url);
  return { res, body: new Uint8Array(await res.arrayBuffer()) };
}

describe("files (embedded)", () => {
  test("files: upload, attach in a message, and a member downloads the same bytes; others are refused", async () => {
    const data = bytes(3000, 7);
    const r = await presign(alice, "holiday photo.png", "image/png", data.length);
    expect(r.status).toBe(200);
    const key = r.body.file_key as string;
    expect(key.startsWith(`u/${alice.id}/`)).toBe(true);
    expect(key.endsWith("/holiday_photo.png")).toBe(true);
    expect(new URL(r.body.upload_url).origin).toBe(p.url);
    expect(Date.parse(r.body.expires_at) - Date.now()).toBeLessThanOrEqual(3600_000);
    expect(await upload(r.body, data)).toBe(204);

    // Before it is sent anywhere, only the uploader may view it.
    expect((await view(bob, key)).status).toBe(403);
    const sent = await sendFile(alice, conversationId, { file_key: key, original_name: "holiday photo.png", size: data.length });
    expect(sent.status).toBe(202);

    const history = await eventually(async () => {
      const h = await call(p.url, "GET", `/v1/messages/${conversationId}`, { token: bob.token });
      return h.body.find((m: any) => m.message_id === sent.body.message_id);
    });
    expect(history.message_type).toBe("file");
    expect(history.attachments).toMatchObject({ file_key: key, original_name: "holiday photo.png", size: 3000, content_type: "image/png" });

    const v = await view(bob, key);
    expect(v.status).toBe(200);
    expect(Date.parse(v.body.expires_at) - Date.now()).toBeLessThanOrEqual(3_000);
    const got = await download(v.body.url);
    expect(got.res.status).toBe(200);
    expect(got.res.headers.get("content-type")).toBe("image/png");
    expect(got.res.headers.get("content-disposition")).toStartWith("inline;");
    expect(got.res.headers.get("content-disposition")).toContain('filename="holiday photo.png"');
    expect(sha(got.body)).toBe(sha(data));
    expect((await view(alice, key)).status).toBe(200);

    for (const probe of [await view(carol, key), await view(carol, `u/${alice.id}/${crypto.randomUUID()}/nothing.png`)]) {
      expect(probe.status).toBe(403);
      expect(probe.body.error.code).toBe("FILE_NOT_ACCESSIBLE");
    }
  });

  test("files: a member may send again a file already sent in the conversation, but not forward it elsewhere", async () => {
    const key = await uploaded(bytes(400, 9));
    expect((await sendFile(alice, conversationId, { file_key: key })).status).toBe(202);
    const again = await sendFile(bob, conversationId, { file_key: key, original_name: "again.png" });
    expect(again.status).toBe(202);
    const elsewhere = (await call(p.url, "POST", "/v1/conversations", { token: bob.token, body: { type: "private", members: [carol.id] } })).body.conversation_id;
    const forwarded = await sendFile(bob, elsewhere, { file_key: key });
    expect(forwarded.status).toBe(403);
    expect(forwarded.body.error.code).toBe("FILE_NOT_ACCESSIBLE");
    expect((await view(carol, key)).status).toBe(403);
  });

  test("files: a message may attach only the sender's own files, once they are uploaded", async () => {
    const key = await uploaded(bytes(500, 2));
    const own = (await call(p.url, "POST", "/v1/conversations", { token: carol.token, body: { type: "private", members: [bob.id] } })).body.conversation_id;
    const stolen = await sendFile(carol, own, { file_key: key });
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe("FILE_NOT_ACCESSIBLE");
    const borrowed = await sendFile(bob, conversationId, { file_key: key });
    expect(borrowed.status).toBe(403);
    expect((await view(carol, key)).status).toBe(403);

    const pending = await presign(alice, "later.pdf", "application/pdf", 100);
    const early = await sendFile(alice, conversationId, { file_key: pending.body.file_key });
    expect(early.status).toBe(400);
    expect(early.body.error.code).toBe("INVALID_ATTACHMENT");
    expect(early.body.error.message).toContain("not been uploaded");

    const noKey = await sendFile(alice, conversationId, { original_name: "x.png" });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.code).toBe("INVALID_ATTACHMENT");
    // A text message may carry free-form attachments without a file.
    expect((await sendFile(alice, conversationId, { note: "no file" }, "text")).status).toBe(202);
  });

  test("files: the store itself refuses uploads that break the policy (size, type, key), storing nothing", async () => {
    const r = await presign(alice, "exact.png", "image/png", 1000);
    expect(r.status).toBe(200);
    const refused = [
      await upload(r.body, bytes(1001)),
      await upload(r.body, bytes(999)),
      await upload(r.body, bytes(1000), { "Content-Type": "text/html" }),
      await upload(r.body, bytes(1000), { key: `u/${alice.id}/other.png` }),
    ];
    for (const status of refused) expect(status >= 400 && status < 500).toBe(true);
    const owner = await view(alice, r.body.file_key);
    expect(owner.status).toBe(409);
    expect(owner.body.error.code).toBe("FILE_NOT_READY");
    expect((await sendFile(alice, conversationId, { file_key: r.body.file_key })).status).toBe(400);
    // The same URL still takes the upload it was made for.
    expect(await upload(r.body, bytes(1000))).toBe(204);
    expect((await sendFile(alice, conversationId, { file_key: r.body.file_key })).status).toBe(202);
  });

  test("files: presign refuses sizes above the maximum (413) and types off the allow-list (400)", async () => {
    const big = await presign(alice, "big.mp4", "video/mp4", MAX_BYTES + 1);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("FILE_TOO_LARGE");
    const huge = await call(p.url, "POST", "/v1/files/multipart", { token: alice.token, body: { filename: "huge.mp4", content_type: "video/mp4", size_bytes: 33 * MiB } });
    expect(huge.status).toBe(413);
    for (const type of ["text/html", "application/x-msdownload", "application/javascript"]) {
      const r = await presign(alice, "page.html", type, 10);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("CONTENT_TYPE_NOT_ALLOWED");
    }
    const bad = await presign(alice, "x", "not a type", 10);
    expect(bad.status).toBe(400);
    expect((await presign(alice, "x.png", "image/png", 0)).status).toBe(400);
    const normalized = await presign(alice, "../../etc/pass\u0000wd\u202e<gnp>.png", "Image/PNG; charset=binary", 10);
    expect(normalized.status).toBe(200);
    expect(normalized.body.content_type).toBe("image/png");
    expect(normalized.body.fields["Content-Type"]).toBe("image/png");
    expect(normalized.body.filename).toBe("passwd_gnp_.png");
    expect(normalized.body.file_key.split("/")).toHaveLength(4);
    const long = await presign(alice, `${"é".repeat(400)}.pdf`, "application/pdf", 10);
    expect(long.status).toBe(200);
    expect(long.body.filename.endsWith(".pdf")).toBe(true);
    expect(Buffer.byteLength(long.body.filename)).toBeLessThanOrEqual(200);
  });

  test("files: active content (SVG) downloads as an attachment, never inline", async () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') as Uint8Array<ArrayBuffer>;
    const key = await uploaded(svg, "logo.svg", "image/svg+xml");
    expect((await sendFile(alice, conversationId, { file_key: key })).status).toBe(202);
    const v = await view(bob, key);
    expect(v.status).toBe(200);
    const got = await download(v.body.url);
    expect(got.res.status).toBe(200);
    expect(got.res.headers.get("content-disposition")).toStartWith("attachment;");
    expect(got.res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("files: a view URL stops working once it expires (and never outlives the configured lifetime)", async () => {
    const key = await uploaded(bytes(200, 3));
    const v = await view(alice, key, "?expires_in=1");
    expect(v.status).toBe(200);
    expect(Date.parse(v.body.expires_at) - Date.now()).toBeLessThanOrEqual(1_000);
    const longer = await view(alice, key, "?expires_in=99999");
    expect(Date.parse(longer.body.expires_at) - Date.now()).toBeLessThanOrEqual(3_000);
    await Bun.sleep(2_200);
    expect((await download(v.body.url)).res.status).toBe(403);
    const tampered = new URL((await view(alice, key)).body.url);
    tampered.searchParams.set("exp", String(Number(tampered.searchParams.get("exp")) + 3600));
    expect((await download(tampered.toString())).res.status).toBe(403);
  });

  test("files: a multipart upload of more than one part is assembled, verified and shared", async () => {
    const data = bytes(PART_BYTES + 100 * 1024, 9);
    const start = await call(p.url, "POST", "/v1/files/multipart", { token: alice.token, body: { filename: "clip.mp4", content_type: "video/mp4", size_bytes: data.length } });
    expect(start.status).toBe(200);
    const { upload_id, file_key, part_size, parts } = start.body;
    expect(part_size).toBe(PART_BYTES);
    expect(parts.map((x: any) => x.part_number)).toEqual([1, 2]);
    const etags = [];
    for (const part of parts) {
      const chunk = data.slice((part.part_number - 1) * part_size, part.part_number * part_size);
      const res = await fetch(part.url, { method: "PUT", body: chunk });
      expect(res.status).toBe(200);
      etags.push({ part_number: part.part_number, etag: res.headers.get("etag")! });
    }
    const path = `/v1/files/multipart/${upload_id}`;
    expect((await call(p.url, "POST", `${path}/complete`, { token: bob.token, body: { parts: etags } })).status).toBe(404);
    expect((await call(p.url, "DELETE", path, { token: bob.token })).status).toBe(404);
    const done = await call(p.url, "POST", `${path}/complete`, { token: alice.token, body: { parts: etags } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ file_key, state: "ready", size_bytes: data.length });
    expect((await call(p.url, "POST", `${path}/complete`, { token: alice.token, body: { parts: etags } })).status).toBe(200);
    expect((await call(p.url, "DELETE", path, { token: alice.token })).status).toBe(409);

    expect((await sendFile(alice, conversationId, { file_key, original_name: "clip.mp4" })).status).toBe(202);
    const v = await view(bob, file_key);
    expect(v.status).toBe(200);
    const got = await download(v.body.url);
    expect(got.body.length).toBe(data.length);
    expect(sha(got.body)).toBe(sha(data));
  });

  test("files: a multipart upload that does not match its declaration is rejected at complete", async () => {
    const start = await call(p.url, "POST", "/v1/files/multipart", { token: alice.token, body: { filename: "short.mp4", content_type: "video/mp4", size_bytes: 100 } });
    const part = start.body.parts[0];
    const res = await fetch(part.url, { method: "PUT", body: bytes(60) });
    const done = await call(p.url, "POST", `/v1/files/multipart/${start.body.upload_id}/complete`, {
      token: alice.token,
      body: { parts: [{ part_number: 1, etag: res.headers.get("etag") }] },
    });
    expect(done.status).toBe(400);
    expect(done.body.error.code).toBe("FILE_REJECTED");
    expect((await sendFile(alice, conversationId, { file_key: start.body.file_key })).status).toBe(400);
    expect((await view(alice, start.body.file_key)).status).toBe(409);
  });

  test("files: an aborted multipart upload takes no more parts and cannot be completed", async () => {
    const start = await call(p.url, "POST", "/v1/files/multipart", { token: alice.token, body: { filename: "gone.pdf", content_type: "application/pdf", size_bytes: 100 } });
    const path = `/v1/files/multipart/${start.body.upload_id}`;
    const aborted = await call(p.url, "DELETE", path, { token: alice.token });
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({ status: "aborted", file_key: start.body.file_key });
    expect((await call(p.url, "DELETE", path, { token: alice.token })).status).toBe(200);
    expect((await fetch(start.body.parts[0].url, { method: "PUT", body: bytes(100) })).status).toBe(404);
    const done = await call(p.url, "POST", `${path}/complete`, { token: alice.token, body: { parts: [{ part_number: 1, etag: "x" }] } });
    expect(done.status).toBe(409);
    expect((await call(p.url, "POST", "/v1/files/multipart/not-an-upload/complete", { token: alice.token, body: { parts: [{ part_number: 1, etag: "x" }] } })).status).toBe(404);
  });

  test("files: an abandoned multipart upload is aborted by the sweeper", async () => {
    const start = await call(p.url, "POST", "/v1/files/multipart", { token: alice.token, body: { filename: "left.zip", content_type: "application/zip", size_bytes: 100 } });
    const url = start.body.parts[0].url as string;
    expect((await fetch(url, { method: "PUT", body: bytes(100) })).status).toBe(200);
    // C4A_FILE_ABANDON_AFTER_SEC=6, swept every second: the storage forgets the upload.
    await eventually(async () => (await fetch(url, { method: "PUT", body: bytes(100) })).status === 404, 15_000, 500);
    const done = await call(p.url, "POST", `/v1/files/multipart/${start.body.upload_id}/complete`, { token: alice.token, body: { parts: [{ part_number: 1, etag: "x" }] } });
    expect(done.status).toBe(409);
    expect(done.body.error.code).toBe("UPLOAD_CLOSED");
  }, 30_000);
});
