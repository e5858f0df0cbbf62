import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { inboundMessageId, uuidV5 } from "./ids.ts";
import { signBody, verifySignature } from "./signature.ts";

const secret = "webhook-secret-0123456789";
const body = '{"object":"whatsapp_business_account","entry":[{"changes":[]}]}';

describe("webhook signatures", () => {
  test("signature: signBody is sha256= and the hex HMAC-SHA256 of the raw body", () => {
    const expected = createHmac("sha256", secret).update(body).digest("hex");
    expect(signBody(secret, body)).toBe(`sha256=${expected}`);
    expect(signBody(secret, new TextEncoder().encode(body))).toBe(`sha256=${expected}`);
  });

  test("signature: a correct signature verifies, uppercase hex too", () => {
    const sig = signBody(secret, body);
    expect(verifySignature(secret, body, sig)).toBe(true);
    expect(verifySignature(secret, body, `sha256=${sig.slice(7).toUpperCase()}`)).toBe(true);
  });

  test("signature: any change to the body, even whitespace, fails", () => {
    const sig = signBody(secret, body);
    expect(verifySignature(secret, `${body} `, sig)).toBe(false);
    expect(verifySignature(secret, body.replace("[]", "[ ]"), sig)).toBe(false);
    expect(verifySignature(secret, JSON.stringify(JSON.parse(body), null, 1), sig)).toBe(false);
  });

  test("signature: another secret, a missing, empty or malformed header, or an empty secret fail", () => {
    const sig = signBody(secret, body);
    expect(verifySignature("another-secret-0123456789", body, sig)).toBe(false);
    expect(verifySignature("", body, signBody("", body))).toBe(false);
    for (const bad of [null, undefined, "", "sha256=", sig.slice(7), `sha1=${sig.slice(7)}`, `${sig}00`, sig.slice(0, -2), `sha256=${"z".repeat(64)}`, `sha256=${"0".repeat(64)}`])
      expect(verifySignature(secret, body, bad)).toBe(false);
  });
});

describe("ids", () => {
  test("ids: uuidV5 matches the RFC 9562 test vector and is a version-5 UUID", () => {
    // RFC 9562 appendix A.4: namespace DNS, name "www.example.com".
    expect(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  test("ids: an inbound message id depends on channel and provider id only", () => {
    const a = inboundMessageId("whatsapp", "wamid.ABC");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(inboundMessageId("whatsapp", "wamid.ABC")).toBe(a);
    expect(inboundMessageId("instagram", "wamid.ABC")).not.toBe(a);
    expect(inboundMessageId("whatsapp", "wamid.ABD")).not.toBe(a);
  });
});
