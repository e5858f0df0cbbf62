import { afterAll, describe, expect, test } from "bun:test";
import { type Server, type Socket, connect as tcpConnect, createServer } from "node:net";
import { createBus, NatsBus } from "@chat4all/bus";
import { describeBusContract } from "@chat4all/bus/contract";

// Talks to loopback only: no proxies.
for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const url = process.env.C4A_NATS_URL;
if (!url) throw new Error("C4A_NATS_URL is not set (e.g. nats://127.0.0.1:54222); start NATS with `bash infra/up.sh nats`");

// Subjects of this run start with a unique token, so parallel suites on the same server never collide.
const prefix = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describeBusContract(`nats ${url}`, () => createBus({ backend: "nats", servers: [url], name: `c4a-test-${prefix}` }), { subjectPrefix: prefix });

/** A TCP proxy to the NATS server that can drop every connection and refuse new ones. */
async function flakyProxy(target: URL) {
  let up = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!up) return void client.destroy();
    const upstream = tcpConnect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream).on("close", () => client.destroy());
    upstream.pipe(client).on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `nats://127.0.0.1:${port}`,
    cut: () => {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => void (up = true),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe("nats bus", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("nats bus: reconnects after losing its connection; healthy() follows; publish never throws meanwhile", async () => {
    const proxy = await flakyProxy(new URL(url));
    cleanup.push(proxy.close);
    const flaky = await NatsBus.connect({ servers: proxy.url, reconnectBaseMs: 50, reconnectMaxMs: 200 });
    const direct = await NatsBus.connect({ servers: url });
    cleanup.push(() => flaky.close(), () => direct.close());
    const toDirect: string[] = [];
    const toFlaky: string[] = [];
    direct.subscribe(`${prefix}.reconnect.out`, (d) => toDirect.push(new TextDecoder().decode(d)));
    flaky.subscribe(`${prefix}.reconnect.in`, (d) => toFlaky.push(new TextDecoder().decode(d)));
    await Promise.all([direct.flush(), flaky.flush()]);
    expect(flaky.healthy()).toBe(true);

    proxy.cut();
    await until("the disconnect to show", () => !flaky.healthy());
    expect(() => flaky.publish(`${prefix}.reconnect.out`, new TextEncoder().encode("while down"))).not.toThrow();
    await expect(flaky.flush()).rejects.toThrow();
    await Bun.sleep(300); // several failed reconnect attempts
    expect(flaky.healthy()).toBe(false);

    proxy.restore();
    await until("the reconnect", () => flaky.healthy());
    flaky.publish(`${prefix}.reconnect.out`, new TextEncoder().encode("after"));
    await flaky.flush();
    direct.publish(`${prefix}.reconnect.in`, new TextEncoder().encode("resubscribed"));
    await direct.flush();
    await until("traffic both ways", () => toDirect.includes("after") && toFlaky.includes("resubscribed"));
    // What was published while disconnected was dropped (documented best-effort behaviour).
    expect(toDirect).toEqual(["after"]);
  }, 20_000);

  test("nats bus: connecting to a server that is down fails clearly", async () => {
    await expect(NatsBus.connect({ servers: "nats://127.0.0.1:1" })).rejects.toThrow("nats: connect to nats://127.0.0.1:1");
  });
});
