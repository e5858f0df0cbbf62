// Processes of the real-time benchmarks: gateway instances (cluster mode, on the servers of infra/),
// bare-Bun baseline servers and load workers, each with the open-file limit raised, all killed on exit.
import type { Subprocess } from "bun";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { api, mapLimit, noProxy, waitReady } from "../lib/http.ts";
import type { RawReply, RawRequest, ResumeReport, ResumeRequest, WorkerReply, WorkerRequest, WorkerStats } from "./protocol.ts";

const ROOT = join(import.meta.dir, "..", "..");
/**
 * Where results go: bench/results, or this run's scratch folder when a prototype gateway runs
 * (C4A_BENCH_GATEWAY_ROOT), so that a trial never overwrites the recorded results.
 */
export const resultsDir = () => (process.env.C4A_BENCH_GATEWAY_ROOT ? RUN_DIR : join(ROOT, "bench", "results"));
/** Scratch folder of this run (logs, CPU profiles). */
export const RUN_DIR = `/tmp/c4a-bench-rt-${process.pid}`;
mkdirSync(RUN_DIR, { recursive: true });
noProxy();

const children = new Set<Subprocess>();
const killAll = () => {
  for (const c of children) c.kill("SIGKILL");
};
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

/** Stops the whole run after `ms` (children killed): a benchmark never hangs the machine. */
export function deadline(ms: number) {
  setTimeout(() => {
    console.error(`bench: gave up after ${Math.round(ms / 1000)} s`);
    process.exit(2);
  }, ms);
}

/** Spawns `bun <args>` under `ulimit -n 20000` (the hard limit here); tracked and killed on exit. */
export function spawnBun(args: string[], opts: { env?: Record<string, string>; log?: string; ipc?: (m: unknown) => void; cwd?: string } = {}) {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const out = opts.log ? Bun.file(opts.log) : "inherit";
  const proc = Bun.spawn(["bash", "-c", `ulimit -n 20000 2>/dev/null || true; exec bun ${quoted}`], {
    cwd: opts.cwd ?? ROOT,
    env: { ...(process.env as Record<string, string>), ...opts.env },
    stdio: ["ignore", out, out],
    ...(opts.ipc ? { ipc: opts.ipc, serialization: "json" as const } : {}),
  });
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
  return proc;
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(proc: Subprocess, graceMs = 10_000) {
  proc.kill("SIGTERM");
  const killed = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!killed) proc.kill("SIGKILL");
  await proc.exited;
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, in seconds (/proc/<pid>/stat, 100 ticks/s). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The pid of the local NATS server (for CPU accounting), if one runs. */
export function natsServerPid(): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === "nats-server") return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** The servers' settings from infra/env.sh. */
export function infraEnv(): Record<string, string> {
  const out = Bun.spawnSync(["bash", join(ROOT, "infra", "env.sh")]).stdout.toString();
  const env: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  if (!env.C4A_NATS_URL) throw new Error("bench: infra/env.sh printed no C4A_NATS_URL");
  return env;
}

/**
 * A metadata service of this run (on the shared PostgreSQL, on a free port): the cluster's own one at
 * :3100 is restarted by other suites (fault tests), which must not break a benchmark halfway.
 */
export async function metadataUrl(env: Record<string, string>): Promise<string> {
  const port = freePort();
  spawnBun(["apps/metadata/src/main.ts"], {
    env: { ...env, C4A_MODE: "cluster", C4A_METADATA_PORT: String(port), C4A_LOG_LEVEL: "warn", C4A_INSTANCE_ID: "bench-metadata" },
    log: join(RUN_DIR, "metadata.log"),
  });
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitReady(`${url}/ready`, 60_000))) throw new Error(`bench: metadata service not ready (log: ${RUN_DIR}/metadata.log)`);
  return url;
}

/**
 * A gateway instance in cluster mode with cheap password hashing and no rate limits. C4A_BENCH_GATEWAY_ROOT
 * runs apps/gateway/src/main.ts of another copy of the repository (to measure a prototype change).
 */
export async function startGateway(env: Record<string, string>, name: string, opts: { cpuProfile?: boolean } = {}) {
  const port = freePort();
  const args = opts.cpuProfile ? ["--cpu-prof", `--cpu-prof-dir=${RUN_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const proc = spawnBun([...args, "apps/gateway/src/main.ts"], {
    env: {
      ...env,
      C4A_MODE: "cluster",
      C4A_ENV: "test",
      C4A_LOG_LEVEL: "warn",
      C4A_GATEWAY_PORT: String(port),
      C4A_INSTANCE_ID: name,
      C4A_PUBLIC_URL: `http://127.0.0.1:${port}`,
      C4A_AUTH_RATE_PER_MIN: "0",
      C4A_SEND_RATE_PER_MIN: "0",
    },
    log: join(RUN_DIR, `${name}.log`),
    cwd: process.env.C4A_BENCH_GATEWAY_ROOT || ROOT,
  });
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitReady(`${url}/ready`, 90_000))) throw new Error(`bench: ${name} not ready (log: ${RUN_DIR}/${name}.log)`);
  return { proc, pid: proc.pid, port, url };
}

/** A bare Bun WebSocket server (bench/ws-client/raw-server.ts). */
export async function startRawServer() {
  let onCount: ((n: number) => void) | undefined;
  let listening!: (port: number) => void;
  const ready = new Promise<number>((r) => (listening = r));
  const proc = spawnBun(["bench/ws-client/raw-server.ts"], {
    ipc: (m) => {
      const r = m as RawReply;
      if (r.op === "listening") listening(r.port);
      else if (r.op === "count") onCount?.(r.sockets);
    },
  });
  const port = await Promise.race([ready, Bun.sleep(20_000).then(() => 0)]);
  if (!port) throw new Error("bench: raw server did not start");
  const send = (m: RawRequest) => proc.send(m);
  return {
    proc,
    pid: proc.pid,
    port,
    publish: (frame: string) => send({ op: "publish", frame }),
    count: () => new Promise<number>((r) => ((onCount = r), send({ op: "count" }))),
  };
}

/** One load-worker process (bench/ws-client/load-worker.ts) driven over IPC. */
export class LoadWorker {
  received = 0;
  lastAt = 0;
  #epoch = 0;
  readonly proc: Subprocess;
  #waiting = new Map<string, (m: WorkerReply) => void>();
  readonly ready: Promise<WorkerReply>;

  constructor(name: string) {
    this.ready = this.#next("ready");
    this.proc = spawnBun(["bench/ws-client/load-worker.ts", name], { ipc: (m) => this.#onReply(m as WorkerReply) });
  }

  #onReply(m: WorkerReply) {
    if (m.op === "progress") {
      if (m.epoch !== this.#epoch) return; // sent before the last reset
      this.received = m.received;
      this.lastAt = m.lastAt;
      return;
    }
    const w = this.#waiting.get(m.op);
    this.#waiting.delete(m.op);
    w?.(m);
  }

  #next(op: WorkerReply["op"]): Promise<WorkerReply> {
    return new Promise((r) => this.#waiting.set(op, r));
  }

  #ask<T extends WorkerReply>(m: WorkerRequest, answer: WorkerReply["op"]): Promise<T> {
    const p = this.#next(answer) as Promise<T>;
    this.proc.send(m);
    return p;
  }

  connect(m: Omit<Extract<WorkerRequest, { op: "connect" }>, "op">) {
    return this.#ask<Extract<WorkerReply, { op: "connected" }>>({ op: "connect", ...m }, "connected");
  }
  reset() {
    this.received = 0;
    this.lastAt = 0;
    return this.#ask({ op: "reset", epoch: ++this.#epoch }, "reset");
  }
  stats(group?: string) {
    return this.#ask<WorkerStats>({ op: "stats", group }, "stats");
  }
  /** Resume storm (bench/resume-storm.ts): reconnect the tracked sockets of a group with RESUME. */
  resume(m: Omit<ResumeRequest, "op">) {
    return this.#ask<ResumeReport>({ op: "resume", ...m }, "resumed");
  }
  closeAll() {
    return this.#ask({ op: "closeAll" }, "closedAll");
  }
  exit() {
    this.proc.send({ op: "exit" } satisfies WorkerRequest);
    return this.proc.exited;
  }
}

/** Starts `n` load workers and waits until they listen for requests. */
export async function startWorkers(n: number): Promise<LoadWorker[]> {
  const workers = Array.from({ length: n }, (_, i) => new LoadWorker(`w${i}`));
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}

/** Source addresses the load workers bind, round-robin (loopback: 127.0.0.2 … 127.0.0.9). */
export const SOURCE_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

/** Splits `items` into `n` near-equal consecutive slices. */
export const split = <T>(items: T[], n: number): T[][] =>
  Array.from({ length: n }, (_, i) => items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));

/** A registered user with an access token. */
export interface BenchUser {
  id: string;
  token: string;
}

/** Registers and logs in `n` users through the REST API (`C4A_ENV=test` hashing keeps it cheap). */
export async function createUsers(base: string, n: number, tag: string, concurrency = 24): Promise<BenchUser[]> {
  return mapLimit(Array.from({ length: n }, (_, i) => i), concurrency, async (i) => {
    const username = `${tag}_${i}`;
    const password = "bench-password-1";
    const reg = await api(base, "POST", "/auth/register", { body: { username, password, email: `${username}@bench.invalid`, name: username } });
    if (reg.status !== 201) throw new Error(`bench: register ${username}: ${reg.status} ${JSON.stringify(reg.body)}`);
    const tok = await api(base, "POST", "/auth/token", { body: { username, password } });
    if (tok.status !== 200) throw new Error(`bench: token ${username}: ${tok.status} ${JSON.stringify(tok.body)}`);
    return { id: reg.body.id as string, token: tok.body.access_token as string };
  });
}

/** Creates a group of `members` (the first is the owner): up to 1000 at creation, the rest added one by one. */
export async function createGroup(base: string, members: BenchUser[], concurrency = 16): Promise<string> {
  const [owner, ...others] = members;
  if (!owner) throw new Error("bench: a group needs an owner");
  const first = others.slice(0, 999).map((u) => u.id);
  const res = await api(base, "POST", "/v1/conversations", { token: owner.token, body: { type: "group", members: first } });
  if (res.status !== 201) throw new Error(`bench: create group: ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.conversation_id as string;
  await mapLimit(others.slice(999), concurrency, async (u) => {
    const r = await api(base, "POST", `/v1/conversations/${id}/members`, { token: owner.token, body: { user_id: u.id } });
    if (r.status >= 300) throw new Error(`bench: add member: ${r.status} ${JSON.stringify(r.body)}`);
  });
  return id;
}

/** Machine facts for the results. */
export function machine() {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  return { cpus: navigator.hardwareConcurrency, cpu, bun: Bun.version, load_avg_1m: Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]) };
}
