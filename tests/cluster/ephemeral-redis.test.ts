import { afterAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { createEphemeral, RedisEphemeral } from "@chat4all/ephemeral";
import { describeEphemeralContract } from "@chat4all/ephemeral/contract";

// Talks to loopback only: no proxies.
for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const url = process.env.C4A_REDIS_URL;
if (!url) throw new Error("C4A_REDIS_URL is not set (e.g. redis://127.0.0.1:56379); start Redis with `bash infra/up.sh redis`");

// Every key of this run starts with this prefix; all of them are deleted at the end.
const keyPrefix = `test:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;

afterAll(async () => {
  const c = createClient({ url });
  await c.connect();
  try {
    const keys: string[] = [];
    for await (const batch of c.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 500 })) keys.push(...batch.map(String));
    if (keys.length > 0) await c.del(keys);
  } finally {
    await c.close();
  }
});

describeEphemeralContract(`redis ${url}`, () => createEphemeral({ backend: "redis", url, keyPrefix }), { shared: true });

describe("redis ephemeral", () => {
  test("redis ephemeral: keys carry the prefix, so two prefixes never see each other", async () => {
    const [a, b] = await Promise.all([
      RedisEphemeral.connect({ url, keyPrefix: `${keyPrefix}a:` }),
      RedisEphemeral.connect({ url, keyPrefix: `${keyPrefix}b:` }),
    ]);
    try {
      await a.set("k", "from a");
      expect(await b.get("k")).toBeNull();
      const raw = createClient({ url });
      await raw.connect();
      expect(await raw.get(`${keyPrefix}a:k`)).toBe("from a");
      // A script evicted from the server (SCRIPT FLUSH, restart) is reloaded transparently.
      await raw.scriptFlush();
      expect(await a.incr("n", 1_000)).toBe(1);
      await raw.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("redis ephemeral: connecting to a server that is down fails clearly", async () => {
    await expect(RedisEphemeral.connect({ url: "redis://127.0.0.1:1" })).rejects.toThrow("redis: connect to 127.0.0.1:1");
  });
});
