// Results of a run: bench/results/pipeline.json (numbers), pipeline.md (summary table and how to
// reproduce) and pipeline-latency.svg (per-second latency and throughput).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "./args.ts";
import type { RawResult } from "./kafka-raw.ts";
import type { createLoad } from "./load.ts";
import type { ProcSeries } from "./sampler.ts";
import { latencyChart } from "./svg.ts";
import type { Target } from "./target.ts";

const r1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const r2 = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
const avg = (xs: number[]) => (finite(xs).length ? finite(xs).reduce((a, b) => a + b, 0) / finite(xs).length : Number.NaN);

function gitCommit(): string | null {
  try {
    const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"]).stdout.toString().trim();
    const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.toString().trim() !== "";
    return head ? `${head}${dirty ? "+dirty" : ""}` : null;
  } catch {
    return null;
  }
}

/** Everything pipeline.json holds. */
export function buildResult(a: {
  opts: BenchOptions;
  target: Target;
  load: Awaited<ReturnType<typeof createLoad>>;
  startAt: number;
  measureAt: number;
  endAt: number;
  perSec: Record<string, unknown>[];
  storedAt: Map<number, number>;
  storedScale: number;
  storedTotal: number;
  sampler: ProcSeries[];
  raw: RawResult | null;
  fixtureCreated: { users: number; conversations: number };
}) {
  const o = a.opts;
  const from = Math.round((a.measureAt - a.startAt) / 1000);
  const to = Math.round((a.endAt - a.startAt) / 1000);
  const d = o.durationS;
  const w = a.load.window(from, to);
  const all = a.load.totals();
  const perConv = o.recipients / o.conversations;
  const storedFrom = a.storedAt.get(from);
  const storedTo = a.storedAt.get(to);
  const storedPerS = storedFrom !== undefined && storedTo !== undefined ? ((storedTo - storedFrom) * a.storedScale) / d : Number.NaN;
  const deliveredPerS = w.delivered / d;
  const rss: Record<string, { start: number | null; end: number | null; max: number | null; kind: string }> = {};
  const cpu: Record<string, number | null> = {};
  for (const s of a.sampler) {
    const rs = finite(s.rssMb);
    rss[s.name] = { start: r1(rs[0] ?? Number.NaN), end: r1(rs[rs.length - 1] ?? Number.NaN), max: r1(Math.max(...rs)), kind: s.kind };
    cpu[s.name] = r1(avg(s.cpuPct.slice(from + 1, to + 1)));
  }
  const lags = a.perSec.filter((r) => r.phase !== "drain");
  const maxLag = (k: string) => Math.max(0, ...lags.map((r) => Number(r[k])).filter(Number.isFinite));
  const machine = avg(a.perSec.slice(from, to).map((r) => Number(r.cpu_machine_pct)));
  return {
    mode: a.target.mode,
    tag: o.tag || null,
    started_at: new Date(a.startAt).toISOString(),
    commit: gitCommit(),
    machine: { cores: cpus().length, bun: Bun.version },
    load: o.rate > 0 ? "open" : "closed",
    messages: w.accepted,
    duration_s: d,
    warmup_s: o.warmupS,
    offered_per_s: Math.round(o.rate > 0 ? o.rate : w.sent / d),
    sent_per_s: Math.round(w.sent / d),
    accepted_per_s: Math.round(w.accepted / d),
    stored_per_s: Number.isFinite(storedPerS) ? Math.round(storedPerS) : null,
    delivered_per_s: Math.round(deliveredPerS),
    deliver_p50_ms: r2(w.deliver.percentileMs(50)),
    deliver_p90_ms: r2(w.deliver.percentileMs(90)),
    deliver_p99_ms: r2(w.deliver.percentileMs(99)),
    deliver_p999_ms: r2(w.deliver.percentileMs(99.9)),
    deliver_max_ms: r2(w.deliver.maxMs()),
    pipeline_p50_ms: r2(w.pipeline.percentileMs(50)),
    pipeline_p99_ms: r2(w.pipeline.percentileMs(99)),
    accept_p50_ms: r2(w.accept.percentileMs(50)),
    accept_p90_ms: r2(w.accept.percentileMs(90)),
    accept_p99_ms: r2(w.accept.percentileMs(99)),
    accept_max_ms: r2(w.accept.maxMs()),
    kafka_raw_per_s: a.raw?.raw_per_s ?? null,
    kafka_raw: a.raw,
    ratio: a.raw ? r2(deliveredPerS / a.raw.raw_per_s) : null,
    conversations: o.conversations,
    recipients: o.recipients,
    members_per_conversation: perConv,
    senders: o.senders,
    window: o.window,
    size_bytes: o.sizeBytes,
    procs: o.procs,
    sockets: { opened: a.load.socketsOpened, failed: a.load.socketsFailed },
    measured: { sent: w.sent, accepted: w.accepted, rejected: w.rejected, errors: w.errors, skipped: w.skipped, delivered: w.delivered, echo: w.echo },
    totals: {
      sent: all.sent,
      accepted: all.accepted,
      rejected: all.rejected,
      errors: all.errors,
      skipped: all.skipped,
      expected_deliveries: all.accepted * (perConv - 1),
      delivered: all.delivered,
      undelivered: all.accepted * (perConv - 1) - all.delivered,
      echo: all.echo,
      duplicates: all.duplicates,
      gaps: all.gaps,
      stored: a.storedTotal,
    },
    max_lag: { ingest: maxLag("lag_ingest"), fanout: maxLag("lag_fanout") },
    cpu_machine_pct: r1(machine),
    cpu_pct_avg: cpu,
    rss_mb: rss,
    /** One sample a second from just before the warmup (index 0) to the end of the drain. */
    rss_series_mb: Object.fromEntries(a.sampler.map((s) => [s.name, s.rssMb])),
    cpu_series_pct: Object.fromEntries(a.sampler.map((s) => [s.name, s.cpuPct])),
    fixture_created: a.fixtureCreated,
    notes: a.target.notes,
  };
}

/** The result object. */
export type BenchResult = ReturnType<typeof buildResult>;

function markdown(r: BenchResult, base: string): string {
  const row = (k: string, v: unknown, target = "") => `| ${k} | ${v ?? "-"} | ${target} |`;
  const cmd = `just bench ${r.mode} --duration ${r.duration_s} --warmup ${r.warmup_s}${r.load === "open" ? ` --rate ${r.offered_per_s}` : ""} --senders ${r.senders} --window ${r.window} --recipients ${r.recipients} --conversations ${r.conversations} --size ${r.size_bytes} --procs ${r.procs}${r.tag ? ` --tag ${r.tag}` : ""}`;
  const apps = Object.entries(r.rss_mb).filter(([, v]) => v.kind === "app");
  const procs = Object.entries(r.cpu_pct_avg).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  return [
    `# Pipeline benchmark — ${r.mode}${r.tag ? ` (${r.tag})` : ""}`,
    "",
    `${r.started_at}, commit ${r.commit ?? "?"}, ${r.machine.cores} cores, Bun ${r.machine.bun}. ${r.load === "open" ? `Open loop at ${r.offered_per_s} msg/s` : `Closed loop, ${r.senders} senders`}; ` +
      `${r.recipients} recipients (one WebSocket each) over ${r.conversations} conversations of ${r.members_per_conversation} members; ` +
      `${r.size_bytes}-byte messages; ${r.warmup_s} s warmup, ${r.duration_s} s measured.`,
    "",
    "| metric | value | target (issue 4) |",
    "|---|---|---|",
    row("offered msg/s", r.offered_per_s),
    row("accepted msg/s (202)", r.accepted_per_s),
    row("stored msg/s (history)", r.stored_per_s),
    row("delivered msg/s (recipient sockets)", r.delivered_per_s, "≥ 10,000"),
    row("send→socket p50 / p99 ms", `${r.deliver_p50_ms} / ${r.deliver_p99_ms}`, "p99 ≤ 50 at 2,000 msg/s"),
    row("accepted→socket p50 / p99 ms (created_at, ms precision)", `${r.pipeline_p50_ms} / ${r.pipeline_p99_ms}`),
    row("accept p50 / p99 ms", `${r.accept_p50_ms} / ${r.accept_p99_ms}`, "p99 ≤ 20 at 2,000 msg/s"),
    row("kafka raw produce→consume msg/s", r.kafka_raw_per_s),
    row("delivered / kafka raw", r.ratio, "≥ 0.5"),
    row("machine CPU busy %", r.cpu_machine_pct),
    row("max consumer lag ingest / fanout", `${r.max_lag.ingest} / ${r.max_lag.fanout}`),
    "",
    `Totals over the whole run (warmup, measurement, drain): ${r.totals.accepted} accepted, ${r.totals.stored} stored, ` +
      `${r.totals.delivered} of ${r.totals.expected_deliveries} expected deliveries (${r.totals.undelivered} missing), ` +
      `${r.totals.duplicates} duplicate and ${r.totals.gaps} out-of-order frames, ${r.totals.rejected} rejected, ${r.totals.errors} errors, ${r.totals.skipped} skipped.`,
    "",
    "| process | CPU % (avg, measured window) | RSS MB start → end (max) |",
    "|---|---|---|",
    ...procs.map(([n, c]) => {
      const m = r.rss_mb[n];
      return `| ${n} | ${c ?? "-"} | ${m ? `${m.start} → ${m.end} (${m.max})` : "-"} |`;
    }),
    "",
    `Apps' RSS growth over the run: ${apps.map(([n, v]) => `${n} ${v.start !== null && v.end !== null ? `${v.end - v.start >= 0 ? "+" : ""}${Math.round((v.end - v.start) * 10) / 10}` : "-"} MB`).join(", ")}.`,
    "",
    `![latency over the run](${base}-latency.svg)`,
    "",
    "## Reproduce",
    "",
    "```sh",
    r.mode === "cluster" ? "bash scripts/cluster.sh up        # or let the benchmark start it" : "# embedded: the benchmark starts apps/dev itself",
    cmd,
    "```",
    "",
    "Definitions: *delivered* counts MESSAGE frames of this run at recipients' sockets (every member but the sender), by arrival " +
      "second; *send→socket* is arrival time minus the send time written into the message content (open loop: the scheduled time, so a " +
      "late send counts against latency); *accept* is POST → 202; *stored* is the growth of the newest history seq of sampled " +
      "conversations; *kafka raw* produces and consumes the same number of records of this run's `message.created` size with kafkajs " +
      "(idempotent, acks=all, one request in flight) on a fresh topic with the pipeline's partition count.",
    ...(r.notes.length ? ["", `Notes: ${r.notes.join("; ")}.`] : []),
    "",
  ].join("\n");
}

/** Writes json, md and svg; returns the paths. */
export function writeResults(dir: string, tag: string, r: BenchResult, perSec: Record<string, unknown>[]): string[] {
  mkdirSync(dir, { recursive: true });
  const base = tag ? `pipeline-${tag}` : "pipeline";
  const json = join(dir, `${base}.json`);
  const md = join(dir, `${base}.md`);
  const svg = join(dir, `${base}-latency.svg`);
  writeFileSync(json, `${JSON.stringify({ ...r, per_second: perSec }, null, 2)}\n`);
  writeFileSync(md, markdown(r, base));
  writeFileSync(svg, latencyChart(perSec, { title: `Chat4All pipeline — ${r.mode}${r.tag ? ` (${r.tag})` : ""}: ${r.delivered_per_s} msg/s delivered`, warmupS: r.warmup_s }));
  return [json, md, svg];
}
