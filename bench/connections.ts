// `just bench connections`: idle connection capacity. Opens N idle, authenticated sockets on gateway
// instances (cluster mode) and measures each instance's resident memory before and after
// (/proc/<pid>/status VmRSS) → bytes per socket; same for a bare Bun WebSocket server with the same
// number of sockets per process (the raw baseline of this run). Writes bench/results/connections.{json,md}.
//
//   bun bench/connections.ts [--sockets 19000] [--instances 1] [--users 300] [--settle 16]
//
// `--instances 3 --sockets 50000` spreads the sockets over three gateways; its result is stored under
// `multi_instance` in connections.json, next to the single-instance one. Users share tokens (each user
// has many sockets, as many devices) so setup stays short; every user is in a few private
// conversations and groups, so each socket joins several conversation topics like a real client.
// C4A_BENCH_GATEWAY_ROOT=<copy of the repo> measures that copy's gateway (a prototype change); results then
// go to the run's scratch folder, never to bench/results.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { api, mapLimit } from "./lib/http.ts";
import {
  type BenchUser,
  type LoadWorker,
  RUN_DIR,
  SOURCE_ADDRESSES,
  cpuSeconds,
  createUsers,
  deadline,
  infraEnv,
  machine,
  metadataUrl,
  resultsDir,
  rssBytes,
  split,
  startGateway,
  startRawServer,
  startWorkers,
  stop,
} from "./ws-client/fixture.ts";

const { values: a } = parseArgs({
  options: {
    sockets: { type: "string", default: "19000" },
    instances: { type: "string", default: "1" },
    users: { type: "string", default: "300" },
    settle: { type: "string", default: "16" },
  },
});
const N = Number(a.sockets);
const K = Number(a.instances);
const U = Number(a.users);
const SETTLE_S = Number(a.settle);
const PER_INSTANCE = Math.ceil(N / K);
const TARGET_BYTES = 4096;
if (PER_INSTANCE > 19_000) throw new Error(`bench: ${PER_INSTANCE} sockets per instance is past one process's open-file limit (20,000)`);
deadline(240_000);

const log = (msg: string) => console.log(`[connections ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const KiB = (b: number) => Math.round((b / 1024) * 100) / 100;
const mib = (b: number) => Math.round(b / 1024 / 1024);

/** Opens `paths[i]` on `ports[i]`: spread over the workers, each connecting in parallel. */
async function openSockets(workers: LoadWorker[], targets: { port: number; path: string }[], group: string) {
  const t = Date.now();
  const byPort = new Map<number, string[]>();
  for (const x of targets) byPort.set(x.port, [...(byPort.get(x.port) ?? []), x.path]);
  let failed = 0;
  const errors: string[] = [];
  for (const [port, paths] of byPort) {
    const parts = split(paths, workers.length);
    const res = await Promise.all(
      workers.map((w, i) => w.connect({ hostname: "127.0.0.1", port, paths: parts[i] as string[], localAddresses: SOURCE_ADDRESSES, concurrency: 48, group })),
    );
    for (const r of res) {
      failed += r.failed;
      errors.push(...r.errors);
    }
  }
  if (failed > 0) throw new Error(`bench: ${failed} of ${targets.length} sockets failed to open: ${errors.slice(0, 5).join("; ")}`);
  log(`${group}: ${targets.length} sockets open in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

/** RSS every 500 ms for `seconds`; the settled value is the lowest of the last `tail` seconds. */
async function rssSeries(pid: number, seconds: number, tail: number) {
  const samples: number[] = [];
  for (let i = 0; i < seconds * 2; i++) {
    await Bun.sleep(500);
    samples.push(rssBytes(pid));
  }
  return { settled: Math.min(...samples.slice(-tail * 2)), series_mib: samples.map((b) => Math.round((b / 1024 / 1024) * 10) / 10) };
}

/** Socket state after the settle time: every socket must still be open (an unauthenticated one is closed at once). */
async function checkOpen(workers: LoadWorker[], group: string, expected: number) {
  const stats = await Promise.all(workers.map((w) => w.stats(group)));
  const open = stats.reduce((n, s) => n + s.sockets, 0);
  const closed = stats.reduce((n, s) => n + s.closed, 0);
  if (open !== expected || closed > 0) throw new Error(`bench: ${group}: ${open} sockets, ${closed} closed: ${JSON.stringify(stats.map((s) => s.closeCodes))}`);
}

/**
 * Measures one set of server processes: warm-up sockets (opened and closed), RSS before, all sockets
 * open, then RSS sampled while they sit idle (JSC collects the upgrades' garbage and returns pages
 * within ~10 s of going idle, so the settled value is the lowest of the last 5 s of SETTLE_S).
 */
async function measure(workers: LoadWorker[], group: string, servers: { pid: number; port: number }[], count: number, pathFor: (i: number) => string) {
  await openSockets(workers, servers.flatMap((s) => Array.from({ length: 200 }, (_, i) => ({ port: s.port, path: pathFor(i) }))), `${group}-warmup`);
  await Promise.all(workers.map((w) => w.closeAll()));
  const before = await Promise.all(servers.map((s) => rssSeries(s.pid, 4, 2)));
  const all = Array.from({ length: count }, (_, i) => ({ port: (servers[i % servers.length] as { port: number }).port, path: pathFor(i) }));
  await openSockets(workers, all, group);
  const cpu0 = servers.map((s) => cpuSeconds(s.pid));
  const t0 = performance.now();
  const after = await Promise.all(servers.map((s) => rssSeries(s.pid, SETTLE_S, 5)));
  const idleS = (performance.now() - t0) / 1000;
  await checkOpen(workers, group, all.length);
  const perInstance = servers.map((s, i) => {
    const n = all.filter((x) => x.port === s.port).length;
    const b = (before[i] as { settled: number }).settled;
    const f = after[i] as { settled: number; series_mib: number[] };
    return {
      sockets: n,
      rss_before_bytes: b,
      rss_after_bytes: f.settled,
      bytes_per_socket: Math.round((f.settled - b) / n),
      /** CPU used while the sockets sat idle (heartbeats, timers), in % of one core. */
      idle_cpu_percent: Math.round(((cpuSeconds(s.pid) - (cpu0[i] as number)) / idleS) * 1000) / 10,
      rss_after_series_mib: f.series_mib,
    };
  });
  await Promise.all(workers.map((w) => w.closeAll()));
  const sockets = perInstance.reduce((s, x) => s + x.sockets, 0);
  const grown = perInstance.reduce((s, x) => s + x.rss_after_bytes - x.rss_before_bytes, 0);
  const r = { sockets, bytes_per_socket: Math.round(grown / sockets), instances: perInstance };
  log(`${group}: ${sockets} sockets, ${r.bytes_per_socket} bytes per socket (${perInstance.map((x) => `${mib(x.rss_before_bytes)}→${mib(x.rss_after_bytes)} MiB`).join(", ")})`);
  return r;
}

/** Users in a realistic spread of conversations: two private ones each, and groups of about 10. */
async function createConversations(base: string, users: BenchUser[]) {
  const jobs: { owner: BenchUser; type: "private" | "group"; members: string[] }[] = [];
  users.forEach((u, i) => {
    for (const d of [1, 3]) jobs.push({ owner: u, type: "private", members: [(users[(i + d) % users.length] as BenchUser).id] });
  });
  for (let g = 0; g < Math.ceil(users.length / 5); g++) {
    const members = Array.from({ length: 10 }, (_, k) => users[(g * 7 + k * 13) % users.length] as BenchUser);
    const [owner, ...rest] = [...new Map(members.map((m) => [m.id, m])).values()];
    if (owner && rest.length) jobs.push({ owner, type: "group", members: rest.map((m) => m.id) });
  }
  await mapLimit(jobs, 16, async (j) => {
    const r = await api(base, "POST", "/v1/conversations", { token: j.owner.token, body: { type: j.type, members: j.members } });
    if (r.status !== 201 && r.status !== 200) throw new Error(`bench: create conversation: ${r.status} ${JSON.stringify(r.body)}`);
  });
  return jobs.length;
}

const env = infraEnv();
env.C4A_METADATA_URL = await metadataUrl(env);
const workers = await startWorkers(Math.max(2, Math.ceil((PER_INSTANCE * K) / 12_500)));

// 1. Raw baseline: a bare Bun server with as many sockets as one gateway instance gets.
const rawServer = await startRawServer();
const raw = await measure(workers, "raw", [{ pid: rawServer.pid, port: rawServer.port }], PER_INSTANCE, () => "/ws");
await stop(rawServer.proc);

// 2. The gateway instance(s).
const gateways = [];
for (let i = 0; i < K; i++) gateways.push(await startGateway(env, `bench-conn-gw${i}`));
const t = Date.now();
const first = gateways[0] as { url: string };
const users = await createUsers(first.url, U, `cn${Date.now().toString(36)}`);
const conversations = await createConversations(first.url, users);
log(`${U} users, ${conversations} conversations in ${((Date.now() - t) / 1000).toFixed(1)} s`);
const gw = await measure(workers, "gateway", gateways, N, (i) => `/ws?token=${(users[i % users.length] as BenchUser).token}`);
await Promise.all(gateways.map((g) => stop(g.proc, 15_000)));
await Promise.all(workers.map((w) => w.exit()));

// ---- results ------------------------------------------------------------------------------------
const dir = resultsDir();
const file = join(dir, "connections.json");
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
const run = {
  date: new Date().toISOString(),
  sockets: gw.sockets,
  instances: K,
  bytes_per_socket: gw.bytes_per_socket,
  raw_bun_bytes_per_socket: raw.bytes_per_socket,
  target_bytes_per_socket: TARGET_BYTES,
  met: gw.bytes_per_socket <= TARGET_BYTES,
  users: U,
  conversations,
  gateway: gw,
  raw,
  machine: machine(),
};
const result =
  K === 1
    ? { benchmark: "connections", ...run, multi_instance: previous.multi_instance ?? null }
    : { benchmark: "connections", ...(previous.benchmark ? previous : {}), multi_instance: run };
mkdirSync(dir, { recursive: true });
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

type Run = typeof run;
const section = (r: Run) => `| gateway (cluster mode) | ${r.instances} | ${r.sockets.toLocaleString("en-US")} | **${r.bytes_per_socket.toLocaleString("en-US")} B (${KiB(r.bytes_per_socket)} KiB)** | ${r.gateway.instances.map((x) => `${mib(x.rss_before_bytes)} → ${mib(x.rss_after_bytes)}`).join(", ")} MiB | ${r.gateway.instances.map((x) => `${x.idle_cpu_percent} %`).join(" / ")} |
| bare Bun server | 1 | ${r.raw.sockets.toLocaleString("en-US")} | ${r.raw_bun_bytes_per_socket.toLocaleString("en-US")} B (${KiB(r.raw_bun_bytes_per_socket)} KiB) | ${r.raw.instances.map((x) => `${mib(x.rss_before_bytes)} → ${mib(x.rss_after_bytes)}`).join(", ")} MiB | ${r.raw.instances.map((x) => `${x.idle_cpu_percent} %`).join(" / ")} |`;
const single = (result as { instances?: number }).instances === 1 ? (result as unknown as Run) : undefined;
const multi = result.multi_instance as Run | null;
const md = `# Idle connection capacity (\`just bench connections\`)

Idle, authenticated WebSockets held open on gateway instances in cluster mode (NATS, PostgreSQL
metadata, Redis, Kafka, Cassandra), measured as the growth of each server process's resident memory
(\`VmRSS\`) from before the sockets to after them, divided by the sockets: everything a socket costs
(kernel-side buffers are not in RSS). Each socket belongs to one of ${U} users (users share tokens, as
devices do); each user is in two private conversations and about two groups of 10, so every socket joins
several conversation topics and the hub's Bus subscriptions. Raw baseline in the same run: a bare Bun
WebSocket server (same socket options, one topic) with as many sockets as one gateway instance holds.
Clients: load-worker processes with a raw RFC 6455 client, ≤ 15,000 sockets each, bound to 127.0.0.2–9.
Target: ≤ ${TARGET_BYTES.toLocaleString("en-US")} B per socket; one process may hold at most 20,000 open files.

| server | instances | sockets | bytes per socket | RSS before → after | idle CPU |
|---|---|---|---|---|---|
${[single, multi].filter((r): r is Run => Boolean(r)).map(section).join("\n")}

${single ? `- One instance, ${single.sockets.toLocaleString("en-US")} sockets (${single.date}): **${single.bytes_per_socket} B per socket**, target ≤ ${TARGET_BYTES} B ${single.met ? "met" : "**missed**"}; bare Bun ${single.raw_bun_bytes_per_socket} B (gateway / raw = ${(single.bytes_per_socket / single.raw_bun_bytes_per_socket).toFixed(2)}).` : ""}
${multi ? `- ${multi.instances} instances, ${multi.sockets.toLocaleString("en-US")} sockets (${multi.date}): **${multi.bytes_per_socket} B per socket**, target ${multi.met ? "met" : "**missed**"}.` : ""}
- RSS is read every 500 ms for ${SETTLE_S} s while the sockets sit idle (the series is in the JSON); the
  lowest value of the last 5 s counts: JSC frees the upgrades' garbage ~10 s after the process goes idle.
  Before: after 200 warm-up sockets were opened and closed. Idle CPU: CPU time over that idle period, in % of one core.
`;
writeFileSync(join(dir, "connections.md"), md);
log(`wrote ${dir}/connections.{json,md} (logs: ${RUN_DIR})`);
process.exit(0);
