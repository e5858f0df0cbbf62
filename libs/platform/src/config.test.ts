import { describe, expect, test } from "bun:test";
import { loadConfig, usesDevSecret } from "./config.ts";

describe("config", () => {
  test("config: an empty environment gives the embedded defaults", () => {
    const c = loadConfig({});
    expect(c.C4A_MODE).toBe("embedded");
    expect(c.C4A_GATEWAY_PORT).toBe(3000);
    expect(usesDevSecret(c)).toBe(true);
  });

  test("config: production refuses to start with the development secret or a short one", () => {
    const channels = {
      C4A_WHATSAPP_WEBHOOK_SECRET: "prod-whatsapp-webhook-secret-0123456789",
      C4A_INSTAGRAM_WEBHOOK_SECRET: "prod-instagram-webhook-secret-0123456789",
      C4A_PROVIDER_API_KEY: "prod-provider-api-key-0123456789",
    };
    expect(() => loadConfig({ C4A_ENV: "production", ...channels })).toThrow(/C4A_JWT_SECRET/);
    expect(() => loadConfig({ C4A_ENV: "production", C4A_JWT_SECRET: "short", ...channels })).toThrow(/at least 32/);
    expect(() => loadConfig({ C4A_ENV: "production", C4A_JWT_SECRET: "a-real-production-secret-of-enough-length-0123" })).toThrow(/WEBHOOK_SECRET/);
    const ok = loadConfig({ C4A_ENV: "production", C4A_JWT_SECRET: "a-real-production-secret-of-enough-length-0123", ...channels });
    expect(usesDevSecret(ok)).toBe(false);
  });

  test("config: bad values are reported together, by variable name", () => {
    let message = "";
    try {
      loadConfig({ C4A_MODE: "galaxy", C4A_GATEWAY_PORT: "http", C4A_PARTITIONS: "0" });
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain("C4A_MODE");
    expect(message).toContain("C4A_GATEWAY_PORT");
    expect(message).toContain("C4A_PARTITIONS");
  });

  test("config: lists are split on commas", () => {
    expect(loadConfig({ C4A_KAFKA_BROKERS: "a:1, b:2,," }).C4A_KAFKA_BROKERS).toEqual(["a:1", "b:2"]);
  });
});
