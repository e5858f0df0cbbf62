// Rate limits: per client IP on /auth/*, per user on sends and uploads; 429 with Retry-After.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, newUser } from "../support/client.ts";
import { type Platform, removeData, startEmbedded } from "../support/embedded.ts";

let p: Platform;
beforeAll(async () => {
  p = await startEmbedded({ C4A_AUTH_RATE_PER_MIN: "6", C4A_SEND_RATE_PER_MIN: "3", C4A_UPLOAD_RATE_PER_MIN: "2" });
}, 90_000);
afterAll(async () => {
  await p?.stop();
  removeData(p.dataDir);
});

function expectLimited(r: { status: number; body: any; headers: Headers }) {
  expect(r.status).toBe(429);
  expect(r.body.error.code).toBe("RATE_LIMITED");
  const retry = Number(r.headers.get("retry-after"));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
}

describe("rate limits", () => {
  test("rate limits: sends per user and uploads per user answer 429 with Retry-After; other users are unaffected", async () => {
    // Windows are fixed minutes: start well inside one so the counts cannot reset mid-test.
    const toBoundary = 60_000 - (Date.now() % 60_000);
    if (toBoundary < 10_000) await Bun.sleep(toBoundary + 100);
    const a = await newUser(p.url, "a"); // 2 auth requests
    const b = await newUser(p.url, "b"); // 4
    const conv = (await call(p.url, "POST", "/v1/conversations", { token: a.token, body: { type: "private", members: [b.id] } })).body.conversation_id;
    const send = (token: string) => call(p.url, "POST", "/v1/messages", { token, body: { idempotency_key: crypto.randomUUID(), conversation_id: conv, content: "x" } });
    for (let i = 0; i < 3; i++) expect((await send(a.token)).status).toBe(202);
    expectLimited(await send(a.token));
    expect((await send(b.token)).status).toBe(202);
    const upload = () => call(p.url, "POST", "/v1/files/presigned-url", { token: a.token, body: { filename: "a.png", content_type: "image/png", size_bytes: 10 } });
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(200);
    expectLimited(await upload());

    // Auth: 4 requests used by the two registrations and logins above; 2 more pass, then 429.
    const login = () => call(p.url, "POST", "/auth/token", { body: { username: a.username, password: a.password } });
    expect((await login()).status).toBe(200);
    expect((await login()).status).toBe(200);
    expectLimited(await login());
  }, 30_000);
});
