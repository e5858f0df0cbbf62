// The system under test: the native cluster (scripts/cluster.sh; gateways restarted with the
// environment the benchmark needs, then restored) or an embedded platform (apps/dev) on a free port
// with a temporary data folder.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startEmbedded, removeData } from "../../tests/support/embedded.ts";
import { waitReady } from "./http.ts";
import type { Watched } from "./sampler.ts";
import { clusterProcesses } from "./sampler.ts";

/** Settings every app under test needs: no per-user send limit, no per-IP auth limit. */
export const BENCH_ENV: Record<string, string> = { C4A_SEND_RATE_PER_MIN: "0", C4A_AUTH_RATE_PER_MIN: "0" };

/** A running system under test. */
export interface Target {
  mode: "cluster" | "embedded";
  gateways: string[];
  /** Processes of the platform itself (apps) and of its servers (infra). */
  processes(): Watched[];
  /** Kafka brokers to run the raw baseline on (null: none reachable). */
  brokers: string[] | null;
  /** Restores what the benchmark changed (gateway env) and stops what it started. */
  close(): Promise<void>;
  notes: string[];
}

const GATEWAYS = { "gateway-a": "http://127.0.0.1:3000", "gateway-b": "http://127.0.0.1:3001" } as const;

function pidOf(root: string, app: string): number | null {
  const f = join(root, ".run", "apps", `${app}.pid`);
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** The C4A_* variables a running process was started with. */
function c4aEnvOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
      const i = kv.indexOf("=");
      if (i > 0 && kv.startsWith("C4A_")) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } catch {
    // gone
  }
  return out;
}

async function cluster(root: string, args: string[], env: Record<string, string>, log: (l: string) => void): Promise<void> {
  const proc = Bun.spawn(["bash", join(root, "scripts", "cluster.sh"), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  for (const line of out.trim().split("\n").filter(Boolean)) log(`  cluster.sh: ${line}`);
  if (code !== 0) throw new Error(`scripts/cluster.sh ${args.join(" ")} failed (${code}): ${err.slice(-2000)}`);
}

/** Restarts `app` keeping its C4A_* environment, with `overrides` on top (a value of "" removes the variable). */
async function restartWith(root: string, app: string, overrides: Record<string, string>, log: (l: string) => void) {
  const pid = pidOf(root, app);
  const current = pid ? c4aEnvOf(pid) : {};
  // Variables cluster.sh sets per app are left to it.
  for (const k of ["C4A_GATEWAY_PORT", "C4A_INSTANCE_ID", "C4A_PUBLIC_URL", "C4A_MODE"]) delete current[k];
  const env: Record<string, string> = { ...current, ...overrides };
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== "") clean[k] = v;
  // Unset in our own env what the override removes, so cluster.sh's env passthrough does not bring it back.
  const base = { ...process.env } as Record<string, string>;
  for (const [k, v] of Object.entries(overrides)) if (v === "") delete base[k];
  const proc = Bun.spawn(["bash", join(root, "scripts", "cluster.sh"), "restart", app], { cwd: root, env: { ...base, ...clean }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  for (const line of out.trim().split("\n").filter(Boolean)) log(`  cluster.sh: ${line}`);
  if (code !== 0) throw new Error(`scripts/cluster.sh restart ${app} failed (${code}): ${err.slice(-2000)}`);
}

/** The cluster, up (started when needed) with gateways that run with BENCH_ENV. */
export async function clusterTarget(root: string, opts: { keepEnv: boolean; log: (l: string) => void }): Promise<Target> {
  const { log } = opts;
  const notes: string[] = [];
  const apps = ["metadata", "ingest", "fanout", "status", "gateway-a", "gateway-b"];
  const down = apps.filter((a) => !pidOf(root, a));
  if (down.length > 0) {
    log(`cluster: ${down.join(", ")} not running; starting the cluster (scripts/cluster.sh up)`);
    await cluster(root, ["up"], BENCH_ENV, log);
    notes.push(`started the cluster (apps down: ${down.join(", ")})`);
  }
  const restore: [string, Record<string, string>][] = [];
  for (const app of Object.keys(GATEWAYS) as (keyof typeof GATEWAYS)[]) {
    const pid = pidOf(root, app);
    const env = pid ? c4aEnvOf(pid) : {};
    const wrong = Object.entries(BENCH_ENV).filter(([k, v]) => env[k] !== v);
    if (wrong.length === 0) continue;
    log(`cluster: restarting ${app} with ${Object.entries(BENCH_ENV).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    const before: Record<string, string> = {};
    for (const k of Object.keys(BENCH_ENV)) before[k] = env[k] ?? "";
    restore.push([app, before]);
    await restartWith(root, app, BENCH_ENV, log);
    notes.push(`${app} restarted with the benchmark's rate-limit settings${opts.keepEnv ? "" : " (restored afterwards)"}`);
  }
  for (const [app, url] of Object.entries(GATEWAYS))
    if (!(await waitReady(`${url}/ready`, 60_000))) throw new Error(`${app} is not ready at ${url}/ready`);
  const envText = existsSync(join(root, "infra", "env.sh")) ? (await Bun.$`bash ${join(root, "infra", "env.sh")}`.quiet().text()) : "";
  const brokers = (/C4A_KAFKA_BROKERS=(\S+)/.exec(envText)?.[1] ?? process.env.C4A_KAFKA_BROKERS ?? "127.0.0.1:59092").split(",");
  return {
    mode: "cluster",
    gateways: Object.values(GATEWAYS),
    processes: () => clusterProcesses(root),
    brokers,
    notes,
    async close() {
      if (opts.keepEnv) return;
      for (const [app, before] of restore) {
        log(`cluster: restoring ${app}'s environment`);
        await restartWith(root, app, before, log).catch((err) => log(`  restore of ${app} failed: ${err}`));
      }
    },
  };
}

/** An embedded platform (apps/dev) of its own, stopped and removed on close. */
export async function embeddedTarget(log: (l: string) => void, brokers: string[] | null): Promise<Target> {
  const p = await startEmbedded({ ...BENCH_ENV, C4A_LOG_LEVEL: "warn" });
  log(`embedded: ${p.url} (pid ${p.proc.pid}, data ${p.dataDir})`);
  return {
    mode: "embedded",
    gateways: [p.url],
    processes: () => [{ name: "dev", pid: p.proc.pid, kind: "app" }],
    brokers,
    notes: ["embedded platform: one process (apps/dev), C4A_ENV=test (cheap password hashing for the fixture), fresh data folder"],
    async close() {
      await p.stop("SIGTERM");
      removeData(p.dataDir);
    },
  };
}
