// Per-process resource sampling from /proc (RSS from VmRSS, CPU from utime+stime) and Kafka
// consumer lag of the pipeline's groups, once a second while the benchmark runs.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";

const TICK_HZ = 100; // USER_HZ on Linux

/** A process to watch. */
export interface Watched {
  name: string;
  pid: number;
  kind: "app" | "infra" | "bench";
}

/** One process over the run: RSS (MB) and CPU (% of one core) per sample. */
export interface ProcSeries {
  name: string;
  pid: number;
  kind: Watched["kind"];
  rssMb: number[];
  cpuPct: number[];
}

function readProc(pid: number): { rssKb: number; ticks: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after the comm: state(3) ppid … utime is field 14, stime 15 (1-based over the whole line)
    const ticks = Number(f[11]) + Number(f[12]);
    return { rssKb: rss ? Number(rss[1]) : 0, ticks };
  } catch {
    return null;
  }
}

/** Pids of the cluster apps (.run/apps/*.pid) and the servers (.run/infra/<svc>/pid). */
export function clusterProcesses(root: string): Watched[] {
  const out: Watched[] = [];
  const apps = join(root, ".run", "apps");
  if (existsSync(apps))
    for (const f of readdirSync(apps).filter((f) => f.endsWith(".pid")).sort()) {
      const pid = Number(readFileSync(join(apps, f), "utf8").trim());
      if (pid > 0 && readProc(pid)) out.push({ name: f.slice(0, -4), pid, kind: "app" });
    }
  const infra = join(root, ".run", "infra");
  if (existsSync(infra))
    for (const svc of readdirSync(infra).sort()) {
      const f = join(infra, svc, "pid");
      if (!existsSync(f)) continue;
      const pid = Number(readFileSync(f, "utf8").trim());
      if (pid > 0 && readProc(pid)) out.push({ name: svc, pid, kind: "infra" });
    }
  return out;
}

/** Children of every process (from /proc/<pid>/stat), for summing a server's worker processes. */
function childrenMap(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = out.get(ppid);
      if (list) list.push(Number(d));
      else out.set(ppid, [Number(d)]);
    } catch {
      // gone
    }
  }
  return out;
}

/** A process and all its descendants (PostgreSQL backends, …): summed RSS and CPU ticks. */
function readTree(pid: number, children: Map<number, number[]>): { rssKb: number; ticks: number } | null {
  const root = readProc(pid);
  if (!root) return null;
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length > 0) {
    const c = stack.pop() as number;
    const p = readProc(c);
    if (p) {
      root.rssKb += p.rssKb;
      root.ticks += p.ticks;
    }
    stack.push(...(children.get(c) ?? []));
  }
  return root;
}

/**
 * Samples the watched processes (each with its descendants; CPU ticks of descendants that exited
 * between samples are lost, which only matters for short-lived children); `sample()` once a second.
 */
export function createProcSampler(watched: Watched[]) {
  const last = new Map<number, { ticks: number; at: number }>();
  const series: ProcSeries[] = watched.map((w) => ({ ...w, rssMb: [], cpuPct: [] }));
  const sample = () => {
    const at = performance.now();
    const children = childrenMap();
    for (const s of series) {
      const p = readTree(s.pid, children);
      if (!p) {
        s.rssMb.push(Number.NaN);
        s.cpuPct.push(Number.NaN);
        continue;
      }
      const prev = last.get(s.pid);
      s.rssMb.push(Math.round(p.rssKb / 102.4) / 10);
      s.cpuPct.push(prev ? Math.round((Math.max(0, p.ticks - prev.ticks) / TICK_HZ / ((at - prev.at) / 1000)) * 1000) / 10 : Number.NaN);
      last.set(s.pid, { ticks: p.ticks, at });
    }
  };
  return { series, sample, add: (w: Watched) => series.push({ ...w, rssMb: [], cpuPct: [] }) };
}

/** Machine-wide CPU busy % since the previous call (from /proc/stat). */
export function createMachineCpu() {
  let prev: { idle: number; total: number } | null = null;
  return () => {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    const p = prev;
    prev = { idle, total };
    if (!p || total === p.total) return Number.NaN;
    return Math.round((1 - (idle - p.idle) / (total - p.total)) * 1000) / 10;
  };
}

/** Consumer lag (records not yet committed) of consumer groups on one topic each. */
export async function createLagProbe(brokers: string[], groups: { group: string; topic: string }[]) {
  const kafka = new Kafka({ clientId: "bench-lag", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  return {
    async lag(): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      await Promise.all(
        groups.map(async ({ group, topic }) => {
          try {
            const [high, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
            const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
            out[group] = high.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)), 0);
          } catch {
            out[group] = Number.NaN;
          }
        }),
      );
      return out;
    },
    close: () => admin.disconnect(),
  };
}
