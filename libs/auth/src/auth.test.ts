import { describe, expect, test } from "bun:test";
import { createPasswordHasher, createTokenSigner, hashToken, randomToken, safeEqual } from "./index.ts";

const secret = "a-test-secret-that-is-long-enough-0123456789";

describe("auth", () => {
  test("jwt: a signed token verifies and carries sub, username and exp", async () => {
    const s = createTokenSigner(secret);
    const t = await s.sign({ sub: "u-1", username: "ana" }, 60);
    const c = await s.verify(t);
    expect(c.sub).toBe("u-1");
    expect(c.username).toBe("ana");
    expect(c.exp - c.iat).toBe(60);
  });

  test("jwt: expired, forged, re-signed with another key, alg=none and garbage tokens are refused", async () => {
    const s = createTokenSigner(secret);
    const t = await s.sign({ sub: "u-1", username: "ana" }, 60, Date.now() - 120_000);
    await expect(s.verify(t)).rejects.toMatchObject({ code: "TOKEN_EXPIRED", kind: "unauthenticated" });
    const good = await s.sign({ sub: "u-1", username: "ana" }, 60);
    const [h, p, sig] = good.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "u-2" })).toString("base64url");
    await expect(s.verify(`${h}.${forgedPayload}.${sig}`)).rejects.toMatchObject({ code: "INVALID_TOKEN" });
    const other = createTokenSigner("another-secret-that-is-long-enough-012345");
    await expect(s.verify(await other.sign({ sub: "u-1", username: "ana" }, 60))).rejects.toMatchObject({ code: "INVALID_TOKEN" });
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    await expect(s.verify(`${none}.${p}.`)).rejects.toMatchObject({ code: "INVALID_TOKEN" });
    for (const junk of ["", "a.b", "a.b.c", "x".repeat(5000)]) await expect(s.verify(junk)).rejects.toMatchObject({ code: "INVALID_TOKEN" });
  });

  test("jwt: a token verified before is still refused once it expires", async () => {
    const s = createTokenSigner(secret);
    const t = await s.sign({ sub: "u-1", username: "ana" }, 60);
    expect((await s.verify(t)).sub).toBe("u-1");
    expect((await s.verify(t)).sub).toBe("u-1");
    await expect(s.verify(t, Date.now() + 61_000)).rejects.toMatchObject({ code: "TOKEN_EXPIRED" });
    const [h, p] = t.split(".");
    await expect(s.verify(`${h}.${p}.AAAA`)).rejects.toMatchObject({ code: "INVALID_TOKEN" });
  });

  test("jwt: refuses a secret shorter than 32 bytes", () => {
    expect(() => createTokenSigner("short")).toThrow();
  });

  test("passwords: argon2id hashes verify only the right password", async () => {
    const h = createPasswordHasher({ memoryCost: 1024, timeCost: 1 });
    const hash = await h.hash("correct horse battery");
    expect(hash.startsWith("$argon2id$")).toBe(true);
    expect(await h.verify("correct horse battery", hash)).toBe(true);
    expect(await h.verify("wrong", hash)).toBe(false);
    expect(await h.verify("x", "not-a-hash")).toBe(false);
    expect(await h.verifyDummy("anything")).toBe(false);
  });

  test("tokens: random tokens are unique, hashes are stable, comparison is exact", () => {
    const a = randomToken();
    expect(a).not.toBe(randomToken());
    expect(hashToken(a)).toBe(hashToken(a));
    expect(hashToken(a)).toHaveLength(64);
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
  });
});
