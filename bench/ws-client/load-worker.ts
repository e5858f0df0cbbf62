// A load-generator process (spawned with IPC by bench/fanout.ts and bench/connections.ts): opens
// many raw client sockets spread over source addresses, counts the benchmark's frames per socket and
// records their publish→socket latency from the send time stamped at a fixed place in each frame.
import { Histogram } from "../lib/histogram.ts";
import { type WsClient, connectWebSocket } from "./client.ts";
import { BENCH_PREFIX, type WorkerReply, type WorkerRequest, wallMs } from "./protocol.ts";
import { resumeStorm, trackFrame } from "./resume.ts";

const prefix = new TextEncoder().encode(BENCH_PREFIX);
const P = prefix.length;

/** Socket `i` of this worker: its client (absent when the connection failed) and its group label. */
let sockets: (WsClient | undefined)[] = [];
let groups: string[] = [];
/** Per socket of a `track` connect: last contiguous seq seen per conversation (absent: not tracked). */
let tracked: (Map<string, number> | undefined)[] = [];
let perSocket = new Int32Array(0);
/** Send time (µs) of the last benchmark frame per socket: frames must arrive once, in publish order. */
let lastUs = new Float64Array(0);
let outOfOrder = 0;
let received = 0;
let other = 0;
let closed = 0;
let closeCodes: Record<string, number> = {};
let lastAt = 0;
let hist = new Histogram();
let reported = -1;
/** Set by the coordinator's resets; progress reports carry it so stale ones are ignored. */
let epoch = 0;

const reply = (m: WorkerReply) => process.send?.(m);

/** Counts one message; benchmark frames carry `"sent_at_us":"<16 digits>"` right after the prefix. */
function onMessage(index: number, buf: Uint8Array, start: number, end: number) {
  const t = tracked[index];
  if (t) {
    if (!trackFrame(t, buf, start, end)) return void other++;
    lastAt = wallMs();
    received++;
    perSocket[index] = (perSocket[index] as number) + 1;
    return;
  }
  if (end - start < P + 16) {
    other++;
    return;
  }
  for (let i = 0; i < P; i++)
    if (buf[start + i] !== prefix[i]) {
      other++;
      return;
    }
  let us = 0;
  for (let i = start + P; i < start + P + 16; i++) us = us * 10 + ((buf[i] as number) - 48);
  if (us <= (lastUs[index] as number)) outOfOrder++;
  lastUs[index] = us;
  const now = wallMs();
  hist.recordMs(now - us / 1000);
  lastAt = now;
  received++;
  perSocket[index] = (perSocket[index] as number) + 1;
}

async function connectAll(m: Extract<WorkerRequest, { op: "connect" }>) {
  const base = sockets.length;
  const total = base + m.paths.length;
  perSocket = Int32Array.from({ length: total }, (_, i) => perSocket[i] ?? 0);
  lastUs = Float64Array.from({ length: total }, (_, i) => lastUs[i] ?? 0);
  sockets.length = total;
  for (let i = base; i < total; i++) {
    groups[i] = m.group;
    tracked[i] = m.track ? new Map() : undefined;
  }
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const one = async () => {
    while (next < m.paths.length) {
      const i = next++;
      const index = base + i;
      try {
        sockets[index] = await connectWebSocket({
          hostname: m.hostname,
          port: m.port,
          path: m.paths[i] as string,
          localAddress: m.localAddresses[index % m.localAddresses.length],
          timeoutMs: 30_000,
          onMessage: (buf, start, end) => onMessage(index, buf, start, end),
          onClose: (code) => {
            closed++;
            closeCodes[code] = (closeCodes[code] ?? 0) + 1;
          },
        });
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(m.concurrency, m.paths.length) }, one));
  reply({ op: "connected", open: sockets.filter(Boolean).length, failed, errors });
}

process.on("message", async (m: WorkerRequest) => {
  switch (m.op) {
    case "connect":
      return connectAll(m);
    case "resume": {
      const indices = groups.flatMap((g, i) => (g === m.group && tracked[i] ? [i] : []));
      return reply(await resumeStorm(m, indices.map((i) => tracked[i] as Map<string, number>)));
    }
    case "reset":
      epoch = m.epoch;
      received = 0;
      other = 0;
      outOfOrder = 0;
      lastAt = 0;
      reported = -1;
      hist = new Histogram();
      perSocket.fill(0);
      return reply({ op: "reset" });
    case "stats": {
      let n = 0;
      let min = Number.MAX_SAFE_INTEGER;
      let max = 0;
      for (let i = 0; i < sockets.length; i++) {
        if (!sockets[i] || (m.group !== undefined && groups[i] !== m.group)) continue;
        const c = perSocket[i] as number;
        n++;
        if (c < min) min = c;
        if (c > max) max = c;
      }
      return reply({
        op: "stats",
        sockets: n,
        received,
        other,
        outOfOrder,
        closed,
        closeCodes,
        perSocketMin: n ? min : 0,
        perSocketMax: max,
        lastAt,
        hist: hist.toJSON(),
      });
    }
    case "closeAll": {
      const open = sockets.filter((s) => s?.isOpen) as WsClient[];
      const before = closed;
      for (const s of open) s.close(1000, "bench done");
      const deadline = Date.now() + 10_000;
      while (closed - before < open.length && Date.now() < deadline) await Bun.sleep(50);
      sockets = [];
      groups = [];
      tracked = [];
      perSocket = new Int32Array(0);
      lastUs = new Float64Array(0);
      closed = 0;
      closeCodes = {};
      return reply({ op: "closedAll" });
    }
    case "exit":
      process.exit(0);
  }
});

// Progress for the coordinator's flow control: the running count, at most every 5 ms.
setInterval(() => {
  if (received !== reported) {
    reported = received;
    reply({ op: "progress", epoch, received, lastAt });
  }
}, 5);
// Stops by itself if the coordinator went away.
process.on("disconnect", () => process.exit(0));
reply({ op: "ready" });
