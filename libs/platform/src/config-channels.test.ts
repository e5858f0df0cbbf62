import { describe, expect, test } from "bun:test";
import { loadConfig } from "./config.ts";

const production = { C4A_ENV: "production", C4A_JWT_SECRET: "a-real-jwt-secret-of-at-least-32-bytes!" };
const channelSecrets = {
  C4A_WHATSAPP_WEBHOOK_SECRET: "real-whatsapp-app-secret",
  C4A_INSTAGRAM_WEBHOOK_SECRET: "real-instagram-app-secret",
  C4A_PROVIDER_API_KEY: "real-provider-api-key-123",
};

describe("channel configuration", () => {
  test("config: development runs with built-in webhook secrets, provider key and the simulators' URLs", () => {
    const c = loadConfig({});
    expect(c.C4A_WHATSAPP_API_URL).toBe("http://127.0.0.1:3201");
    expect(c.C4A_INSTAGRAM_API_URL).toBe("http://127.0.0.1:3202");
    expect(c.C4A_PUSH_API_URL).toBe("http://127.0.0.1:3203");
    expect([c.C4A_WHATSAPP_SIM_PORT, c.C4A_INSTAGRAM_SIM_PORT, c.C4A_PUSH_SIM_PORT]).toEqual([3201, 3202, 3203]);
    expect(c.C4A_WHATSAPP_WEBHOOK_SECRET.length).toBeGreaterThanOrEqual(16);
    expect(c.C4A_SIM_FAIL_RATE).toBe(0);
  });

  test("config: production refuses each built-in channel secret, like the JWT secret", () => {
    expect(() => loadConfig({ ...production, ...channelSecrets })).not.toThrow();
    for (const name of Object.keys(channelSecrets)) {
      const { [name as keyof typeof channelSecrets]: _, ...rest } = channelSecrets;
      expect(() => loadConfig({ ...production, ...rest })).toThrow(/must be set in production/);
    }
  });

  test("config: short secrets, bad URLs and fail rates outside 0..1 are refused", () => {
    expect(() => loadConfig({ C4A_WHATSAPP_WEBHOOK_SECRET: "short" })).toThrow(/C4A_WHATSAPP_WEBHOOK_SECRET must be at least 16 bytes/);
    expect(() => loadConfig({ C4A_PUSH_API_URL: "not a url" })).toThrow(/C4A_PUSH_API_URL/);
    expect(() => loadConfig({ C4A_SIM_FAIL_RATE: "1.5" })).toThrow(/C4A_SIM_FAIL_RATE/);
    expect(loadConfig({ C4A_SIM_FAIL_RATE: "0.25" }).C4A_SIM_FAIL_RATE).toBe(0.25);
  });
});
