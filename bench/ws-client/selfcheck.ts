// Checks the raw client against Bun's own WebSocket server: `bun bench/ws-client/selfcheck.ts`.
// Echo of every length class (7-bit, 16-bit, 64-bit), server pings answered, close codes, source address.
import { connectWebSocket } from "./client.ts";

const dec = new TextDecoder();
let pongs = 0;
let peer = "";
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, srv) {
    return srv.upgrade(req) ? undefined : new Response("no", { status: 400 });
  },
  websocket: {
    maxPayloadLength: 1 << 20,
    open(ws) {
      peer = ws.remoteAddress;
      ws.ping("hi");
    },
    message(ws, m) {
      if (m === "bye") return ws.close(4008, "slow consumer");
      ws.send(m);
    },
    pong() {
      pongs++;
    },
  },
});

const got: string[] = [];
let closed: [number, string] | undefined;
const ws = await connectWebSocket({
  hostname: "127.0.0.1",
  port: server.port as number,
  path: "/ws",
  localAddress: "127.0.0.7",
  onMessage: (buf, start, end) => got.push(dec.decode(buf.subarray(start, end))),
  onClose: (code, reason) => (closed = [code, reason]),
});
const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 300_000];
const sent = sizes.map((n, i) => String.fromCharCode(97 + i).repeat(n) + (n > 0 ? "é" : ""));
for (const s of sent) ws.send(s);
const deadline = Date.now() + 5_000;
while (got.length < sent.length && Date.now() < deadline) await Bun.sleep(10);
ws.send("bye");
while (!closed && Date.now() < deadline) await Bun.sleep(10);
server.stop(true);

const failures: string[] = [];
if (got.length !== sent.length || got.some((g, i) => g !== sent[i])) failures.push(`echo: got ${got.map((g) => g.length).join(",")}`);
if (pongs !== 1) failures.push(`pongs: ${pongs}`);
if (peer !== "127.0.0.7") failures.push(`source address: ${peer}`);
if (closed?.[0] !== 4008 || closed[1] !== "slow consumer") failures.push(`close: ${JSON.stringify(closed)}`);
let rejected = false;
await connectWebSocket({ hostname: "127.0.0.1", port: server.port as number, path: "/", timeoutMs: 1_000 }).catch(() => (rejected = true));
if (!rejected) failures.push("a stopped server was not reported");
console.log(failures.length === 0 ? "ws-client selfcheck: ok" : `ws-client selfcheck FAILED:\n  ${failures.join("\n  ")}`);
process.exit(failures.length === 0 ? 0 : 1);
