// The raw baseline of the benchmarks: a bare Bun WebSocket server (same socket options as the
// gateway's hub) whose sockets all subscribe to one topic; `{op:"publish"}` over IPC publishes a frame
// to it with Bun's native `server.publish`. Spawned by bench/fanout.ts and bench/connections.ts.
import type { RawReply, RawRequest } from "./protocol.ts";

const TOPIC = "c:bench";
let open = 0;
let nextId = 1;
const server = Bun.serve<{ id: number }>({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  fetch(req, srv) {
    if (srv.upgrade(req, { data: { id: nextId++ } })) return undefined;
    return new Response("expected a WebSocket upgrade", { status: 426 });
  },
  websocket: {
    maxPayloadLength: 64 * 1024,
    idleTimeout: 120,
    sendPings: true,
    backpressureLimit: 4 * 1024 * 1024,
    closeOnBackpressureLimit: true,
    perMessageDeflate: false,
    open(ws) {
      open++;
      ws.subscribe(TOPIC);
    },
    message() {},
    close() {
      open--;
    },
  },
});

const reply = (m: RawReply) => process.send?.(m);
process.on("message", (m: RawRequest) => {
  if (m.op === "publish") server.publish(TOPIC, m.frame);
  else if (m.op === "count") reply({ op: "count", sockets: open });
});
process.on("disconnect", () => process.exit(0));
reply({ op: "listening", port: server.port as number });
