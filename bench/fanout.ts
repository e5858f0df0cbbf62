// `just bench fanout`: group fanout through the whole real-time path, Bus (NATS) → one gateway
// instance → S sockets, against the raw baseline of the same run: a bare Bun WebSocket server
// publishing the same frames to the same number of sockets. Writes bench/results/fanout.{json,md}.
//
//   bun bench/fanout.ts [--sockets 5000] [--messages 1000] [--rounds 3] [--window 32] [--workers 2]
//                       [--paced-rate 500000] [--paced-seconds 3] [--profile]
//
// Both servers keep their S sockets open for the whole run and are measured in alternating rounds
// (raw, gateway, gateway, raw, …) so that load from other processes on the machine hits both alike.
// Throughput: M messages are published with at most `window` in flight (published but not yet on
// every socket, as the load workers report every 5 ms): the server stays saturated without unbounded
// buffering; deliveries/s = deliveries ÷ (last delivery − first publish); the median round is
// reported. Latency: publish time (stamped in each frame) → frame read by the client, over every
// delivery; also at a fixed offered rate (`paced`). CPU time per delivery of each server process is
// recorded too (it does not depend on the load of the rest of the machine).
// C4A_BENCH_GATEWAY_ROOT=<copy of the repo> measures that copy's gateway (a prototype change); results then
// go to the run's scratch folder, never to bench/results.
import { encodeDelivery } from "@chat4all/pipeline";
import { connect } from "nats";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Histogram } from "./lib/histogram.ts";
import {
  type LoadWorker,
  RUN_DIR,
  SOURCE_ADDRESSES,
  cpuSeconds,
  createGroup,
  createUsers,
  deadline,
  infraEnv,
  machine,
  metadataUrl,
  natsServerPid,
  resultsDir,
  split,
  startGateway,
  startRawServer,
  startWorkers,
  stop,
} from "./ws-client/fixture.ts";
import { benchFrame, wallMs } from "./ws-client/protocol.ts";

const { values: a } = parseArgs({
  options: {
    sockets: { type: "string", default: "5000" },
    messages: { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
    window: { type: "string", default: "32" },
    workers: { type: "string", default: "2" },
    "paced-rate": { type: "string", default: "500000" },
    "paced-seconds": { type: "string", default: "3" },
    content: { type: "string", default: "64" },
    profile: { type: "boolean", default: false },
  },
});
const S = Number(a.sockets);
const M = Number(a.messages);
const ROUNDS = Number(a.rounds);
const W = Number(a.window);
const PACED_RATE = Number(a["paced-rate"]);
const PACED_S = Number(a["paced-seconds"]);
const CONTENT = "fanout benchmark message ".padEnd(Number(a.content), "x");
const TARGET_PER_S = 500_000;
const TARGET_RATIO = 0.3;
deadline(240_000);

const log = (msg: string) => console.log(`[fanout ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const delivered = (ws: LoadWorker[]) => ws.reduce((n, w) => n + w.received, 0);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)] as number;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A server under test: how to publish one benchmark message, and its process (CPU accounting). */
interface Target {
  name: "gateway" | "raw";
  pid: number;
  publish(seq: number): void;
}

/** Waits until every socket has every message, or progress stalls for `stallMs`. */
async function drain(workers: LoadWorker[], expected: number, stallMs = 5_000) {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = delivered(workers);
    if (n >= expected) return;
    if (n !== last) [last, since] = [n, Date.now()];
    else if (Date.now() - since > stallMs) return;
    await Bun.sleep(5);
  }
}

/** Runs one phase (publishing `run`), then gathers the workers' counts and the CPU each process used. */
async function phase(workers: LoadWorker[], target: Target, messages: number, run: () => Promise<void>) {
  await Promise.all(workers.map((w) => w.reset()));
  const pids = { server: target.pid, nats: natsServerPid(), coordinator: process.pid, workers: workers.map((w) => w.proc.pid) };
  const cpu0 = { server: cpuSeconds(pids.server), nats: pids.nats ? cpuSeconds(pids.nats) : 0, coordinator: cpuSeconds(process.pid), workers: pids.workers.map(cpuSeconds) };
  const t0 = wallMs();
  await run();
  await drain(workers, messages * S);
  const cpu = {
    server: round3(cpuSeconds(pids.server) - cpu0.server),
    nats: round3(pids.nats ? cpuSeconds(pids.nats) - cpu0.nats : 0),
    coordinator: round3(cpuSeconds(process.pid) - cpu0.coordinator),
    workers: round3(pids.workers.reduce((s, p, i) => s + cpuSeconds(p) - (cpu0.workers[i] as number), 0)),
  };
  const stats = await Promise.all(workers.map((w) => w.stats(target.name)));
  const hist = new Histogram();
  for (const s of stats) hist.merge(s.hist);
  const total = stats.reduce((n, s) => n + s.received, 0);
  const seconds = (Math.max(...stats.map((s) => s.lastAt)) - t0) / 1000;
  return {
    result: {
      delivered: total,
      expected: messages * S,
      duration_s: round3(seconds),
      delivered_per_s: Math.round(total / seconds),
      per_socket_min: Math.min(...stats.map((s) => s.perSocketMin)),
      per_socket_max: Math.max(...stats.map((s) => s.perSocketMax)),
      out_of_order: stats.reduce((n, s) => n + s.outOfOrder, 0),
      sockets_closed: stats.reduce((n, s) => n + s.closed, 0),
      cpu_s: cpu,
      server_cpu_us_per_delivery: round3((cpu.server * 1e6) / Math.max(1, total)),
      latency: hist.summary(),
    },
    hist,
  };
}

/** Saturated throughput: M messages, at most W in flight. */
function saturated(workers: LoadWorker[], target: Target, seq: { n: number }) {
  return phase(workers, target, M, async () => {
    let sent = 0;
    while (sent < M) {
      const allowed = Math.min(M - sent, Math.floor(W - (sent - delivered(workers) / S)));
      for (let i = 0; i < allowed; i++, sent++) target.publish(++seq.n);
      await Bun.sleep(allowed > 0 ? 0 : 1);
    }
  });
}

/** A steady offered rate of PACED_RATE deliveries/s for PACED_S seconds. */
function paced(workers: LoadWorker[], target: Target, seq: { n: number }) {
  const perMs = PACED_RATE / S / 1000;
  const total = Math.max(1, Math.round(perMs * PACED_S * 1000));
  return phase(workers, target, total, async () => {
    const p0 = wallMs();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor((wallMs() - p0) * perMs) + 1);
      for (; sent < due; sent++) target.publish(++seq.n);
      await Bun.sleep(1);
    }
  });
}

async function connectSockets(workers: LoadWorker[], group: string, port: number, paths: string[]) {
  const t = Date.now();
  const parts = split(paths, workers.length);
  const res = await Promise.all(
    workers.map((w, i) =>
      w.connect({ hostname: "127.0.0.1", port, paths: parts[i] as string[], localAddresses: SOURCE_ADDRESSES, concurrency: 64, group }),
    ),
  );
  const failed = res.reduce((n, r) => n + r.failed, 0);
  if (failed > 0) throw new Error(`bench: ${failed} of ${paths.length} sockets failed to open: ${res.flatMap((r) => r.errors).join("; ")}`);
  log(`${group}: ${paths.length} sockets open in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

// ---- setup: both servers, S sockets each -------------------------------------------------------
const env = infraEnv();
env.C4A_METADATA_URL = await metadataUrl(env);
const workers = await startWorkers(Number(a.workers));
const frameBytes = Buffer.byteLength(benchFrame({ conversationId: crypto.randomUUID(), senderId: crypto.randomUUID(), seq: 1000, content: CONTENT }));

const rawServer = await startRawServer();
await connectSockets(workers, "raw", rawServer.port, Array.from({ length: S }, () => "/ws"));
const rawConv = crypto.randomUUID();
const rawSender = crypto.randomUUID();
const raw: Target = {
  name: "raw",
  pid: rawServer.pid,
  publish: (seq) => rawServer.publish(benchFrame({ conversationId: rawConv, senderId: rawSender, seq, content: CONTENT })),
};

const gw = await startGateway(env, "bench-fanout-gw", { cpuProfile: a.profile });
log(`gateway ${gw.url} (pid ${gw.pid}): creating ${S} users and one group`);
const t = Date.now();
const users = await createUsers(gw.url, S, `fo${Date.now().toString(36)}`);
const conversationId = await createGroup(gw.url, users);
log(`setup in ${((Date.now() - t) / 1000).toFixed(1)} s: conversation ${conversationId}`);
await connectSockets(workers, "gateway", gw.port, users.map((u) => `/ws?token=${u.token}`));
const nc = await connect({ servers: env.C4A_NATS_URL?.split(","), name: "bench-fanout" });
const subject = `deliver.conv.${conversationId}`;
const sender = users[0]?.id as string;
const gateway: Target = {
  name: "gateway",
  pid: gw.pid,
  publish(seq) {
    const frame = benchFrame({ conversationId, senderId: sender, seq, content: CONTENT });
    nc.publish(subject, encodeDelivery({ kind: "m", conversationId, seq, frame, from: sender }));
  },
};

// ---- measurement: alternating rounds -----------------------------------------------------------
const seqs = { raw: { n: 0 }, gateway: { n: 0 } };
for (const target of [raw, gateway]) {
  // Warm-up (JIT, socket buffers, NATS interest): everything must arrive.
  const w = await phase(workers, target, 20, async () => {
    for (let i = 0; i < 20; i++) {
      target.publish(++seqs[target.name].n);
      await Bun.sleep(5);
    }
  });
  if (w.result.delivered !== w.result.expected) throw new Error(`${target.name}: warm-up delivered ${w.result.delivered} of ${w.result.expected}`);
}
type Phase = Awaited<ReturnType<typeof phase>>;
const runs: Record<"raw" | "gateway", { saturated: Phase[]; paced: Phase[] }> = { raw: { saturated: [], paced: [] }, gateway: { saturated: [], paced: [] } };
for (let r = 0; r < ROUNDS; r++) {
  for (const target of r % 2 === 0 ? [raw, gateway] : [gateway, raw]) {
    const s = await saturated(workers, target, seqs[target.name]);
    runs[target.name].saturated.push(s);
    log(`round ${r + 1} ${target.name}: ${s.result.delivered_per_s.toLocaleString("en-US")} deliveries/s, p99 ${s.result.latency.p99_ms} ms, server ${s.result.server_cpu_us_per_delivery} µs CPU/delivery`);
  }
  for (const target of r % 2 === 0 ? [raw, gateway] : [gateway, raw]) {
    const p = await paced(workers, target, seqs[target.name]);
    runs[target.name].paced.push(p);
    log(`round ${r + 1} ${target.name} paced ${PACED_RATE.toLocaleString("en-US")}/s: p50 ${p.result.latency.p50_ms} ms, p99 ${p.result.latency.p99_ms} ms`);
  }
}
await nc.drain();
await Promise.all(workers.map((w) => w.closeAll()));
await Promise.all([stop(gw.proc, 15_000), stop(rawServer.proc)]);
await Promise.all(workers.map((w) => w.exit()));

// ---- results ------------------------------------------------------------------------------------
function summarize(ph: Phase[]) {
  const hist = new Histogram();
  for (const p of ph) hist.merge(p.hist);
  const rates = ph.map((p) => p.result.delivered_per_s);
  const cpu = ph.map((p) => p.result.server_cpu_us_per_delivery);
  return {
    delivered_per_s: median(rates),
    rounds_per_s: rates,
    server_cpu_us_per_delivery: median(cpu),
    lost: ph.reduce((n, p) => n + p.result.expected - p.result.delivered, 0),
    out_of_order: ph.reduce((n, p) => n + p.result.out_of_order, 0),
    sockets_closed: Math.max(...ph.map((p) => p.result.sockets_closed)),
    latency: hist.summary(),
    rounds: ph.map((p) => p.result),
  };
}
const g = { saturated: summarize(runs.gateway.saturated), paced: summarize(runs.gateway.paced) };
const rw = { saturated: summarize(runs.raw.saturated), paced: summarize(runs.raw.paced) };
const ratio = round3(g.saturated.delivered_per_s / rw.saturated.delivered_per_s);
const roundRatios = g.saturated.rounds_per_s.map((x, i) => round3(x / (rw.saturated.rounds_per_s[i] as number)));
const cpuRatio = round3(rw.saturated.server_cpu_us_per_delivery / g.saturated.server_cpu_us_per_delivery);
const result = {
  benchmark: "fanout",
  date: new Date().toISOString(),
  delivered_per_s: g.saturated.delivered_per_s,
  p50_ms: g.saturated.latency.p50_ms,
  p99_ms: g.saturated.latency.p99_ms,
  paced_rate_per_s: PACED_RATE,
  paced_p50_ms: g.paced.latency.p50_ms,
  paced_p99_ms: g.paced.latency.p99_ms,
  sockets: S,
  messages: M * ROUNDS,
  raw_bun_per_s: rw.saturated.delivered_per_s,
  ratio,
  round_ratios: roundRatios,
  cpu_efficiency_ratio: cpuRatio,
  frame_bytes: frameBytes,
  window_messages: W,
  rounds: ROUNDS,
  targets: {
    delivered_per_s: { min: TARGET_PER_S, met: g.saturated.delivered_per_s >= TARGET_PER_S },
    ratio: { min: TARGET_RATIO, met: ratio >= TARGET_RATIO },
  },
  gateway: g,
  raw: rw,
  load_workers: workers.length,
  source_addresses: SOURCE_ADDRESSES,
  machine: machine(),
  cpu_profile: a.profile ? join(RUN_DIR, "bench-fanout-gw.cpuprofile") : undefined,
};

const n = (x: number) => x.toLocaleString("en-US");
const row = (name: string, r: typeof g) =>
  `| ${name} | ${n(r.saturated.delivered_per_s)} | ${r.saturated.rounds_per_s.map(n).join(" / ")} | ${r.saturated.latency.p50_ms} / ${r.saturated.latency.p99_ms} ms | ${r.paced.latency.p50_ms} / ${r.paced.latency.p99_ms} ms | ${r.saturated.server_cpu_us_per_delivery} µs | ${n(r.saturated.lost + r.paced.lost)} / ${n(r.saturated.out_of_order + r.paced.out_of_order)} |`;
const md = `# Group fanout (\`just bench fanout\`)

${result.date} · Bun ${result.machine.bun} · ${result.machine.cpus} CPUs (${result.machine.cpu}) · load average ${result.machine.load_avg_1m} at the end

One group conversation with **${n(S)} members, one socket each**, on **one gateway instance** in cluster
mode (NATS Bus, PostgreSQL metadata, Redis, Kafka, Cassandra). Each message is published on NATS
(\`deliver.conv.<id>\`, the fanout worker's payload: header line + frame) and the gateway's hub hands the
frame to Bun's native topic publish. Raw baseline in the same run: a bare Bun WebSocket server with the
same socket options, ${n(S)} sockets on one topic, \`server.publish\` of the same ${frameBytes}-byte MESSAGE
frames. Both servers keep their sockets open all along and are measured in ${ROUNDS} alternating rounds
(median reported). Clients: ${workers.length} load-worker processes with a raw RFC 6455 client bound to
127.0.0.2–127.0.0.9.

| server | deliveries/s (median) | rounds | p50 / p99 saturated | p50 / p99 at ${n(PACED_RATE)}/s | server CPU per delivery | lost / out of order |
|---|---|---|---|---|---|---|
${row("gateway: NATS → hub → sockets", g)}
${row("bare Bun `server.publish`", rw)}

- **${n(g.saturated.delivered_per_s)} deliveries/s** through the gateway: target ≥ ${n(TARGET_PER_S)} ${result.targets.delivered_per_s.met ? "met" : "**missed**"}.
- **Gateway / raw = ${ratio}** (per round: ${roundRatios.join(", ")}): target ≥ ${TARGET_RATIO} ${result.targets.ratio.met ? "met" : "**missed**"}.
  In server CPU time per delivery, which the rest of the machine's load does not skew, the gateway
  costs ${g.saturated.server_cpu_us_per_delivery} µs against ${rw.saturated.server_cpu_us_per_delivery} µs for bare Bun (efficiency ${cpuRatio}).
- Saturated: ${n(M)} messages per round with at most ${W} in flight (published, not yet on every socket), so
  the latency includes that queue. The window matters: once a socket has a backlog, Bun writes its frames
  in batches (one syscall for several frames); with 8 in flight both servers reach only ~0.5 M/s here, with
  32 ~1.3–1.6 M/s, with 128 raw Bun ~2.1 M/s. Paced: a steady ${n(PACED_RATE)} deliveries/s offered for ${PACED_S} s.
- Paced latency is about the same for both servers: at a steady rate the sockets have no backlog, so each
  frame costs one write on the server and one read on a client (~3× the CPU per delivery of the saturated
  phase), which at 500,000/s keeps this machine's two cores nearly busy and frames queue for tens of ms.
- Latency: publish (time stamped in the frame) → frame read by the client, over every delivery. On this
  2-core machine the clients, the servers, NATS and the cluster's Kafka and Cassandra share the CPUs, so the
  client side's reading is part of every number.
`;
const dir = resultsDir();
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "fanout.json"), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(dir, "fanout.md"), md);
log(`gateway ${n(g.saturated.delivered_per_s)}/s, raw ${n(rw.saturated.delivered_per_s)}/s, ratio ${ratio}; wrote ${dir}/fanout.{json,md} (logs: ${RUN_DIR})`);
process.exit(0);
