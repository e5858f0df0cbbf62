// A dependency that is down at start-up: the app keeps retrying, answers /health but reports
// not-ready on /ready (never a crash loop), and becomes ready once the dependency is there.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eventually } from "../support/client.ts";
import { freePort } from "../support/embedded.ts";

const root = join(import.meta.dir, "..", "..");
const procs: { kill(): void }[] = [];
afterAll(() => procs.forEach((p) => p.kill()));

describe("start-up", () => {
  test("cluster: a gateway started while Redis is down is alive, not ready, and becomes ready when Redis appears", async () => {
    const port = freePort();
    const redisPort = freePort();
    const gw = Bun.spawn(["bun", join(root, "apps/gateway/src/main.ts")], {
      env: { ...process.env, C4A_MODE: "cluster", C4A_GATEWAY_PORT: String(port), C4A_REDIS_URL: `redis://127.0.0.1:${redisPort}`, C4A_LOG_LEVEL: "error", C4A_INSTANCE_ID: "startup-test" },
      stdout: "ignore",
      stderr: "ignore",
    });
    procs.push(gw);
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${base}/health`)).status === 200, 20_000);
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${base}/ready`)).status).toBe(503);
      const api = await fetch(`${base}/v1/conversations`);
      expect(api.status).toBe(503);
      expect((await api.json()).error.code).toBe("STARTING");
      await Bun.sleep(1_000);
    }
    expect(gw.exitCode).toBeNull();
    const redis = Bun.spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
    procs.push(redis);
    await eventually(async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, 30_000, 200);
    const ready = await (await fetch(`${base}/ready`)).json();
    expect(ready.checks.ephemeral).toBe(true);
    gw.kill("SIGTERM");
    expect(await gw.exited).toBe(0);
  }, 60_000);
});
