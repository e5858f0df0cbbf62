// `just bench`: the pipeline benchmark (not a test). N senders POST /v1/messages through every
// gateway while M users hold a WebSocket each over K conversations; measures accepted, stored and
// delivered messages per second, send→socket and accept latency (HDR-style histograms), RSS and CPU
// of every process, Kafka consumer lag, and in the same run the raw kafkajs produce→consume
// baseline. Writes bench/results/pipeline.{json,md} and pipeline-latency.svg. Bounded in time.
import { join, resolve } from "node:path";
import { TOPICS, encodeMessageCreated } from "@chat4all/events";
import { USAGE, parseBenchArgs } from "./lib/args.ts";
import { ensureFixture } from "./lib/fixture.ts";
import { noProxy } from "./lib/http.ts";
import { kafkaRaw, partitionsOf, type RawResult } from "./lib/kafka-raw.ts";
import { type Aggregate, createLoad } from "./lib/load.ts";
import { buildResult, writeResults } from "./lib/report.ts";
import { createLagProbe, createMachineCpu, createProcSampler } from "./lib/sampler.ts";
import { createStoredProbe } from "./lib/stored.ts";
import { type Target, clusterTarget, embeddedTarget } from "./lib/target.ts";
import { nowMs } from "./lib/protocol.ts";

noProxy();
const ROOT = resolve(import.meta.dir, "..");
const log = (line: string) => console.log(line);

let opts: ReturnType<typeof parseBenchArgs>;
try {
  opts = parseBenchArgs(Bun.argv.slice(2));
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts === "help") {
  console.log(USAGE);
  process.exit(0);
}
const o = opts;

// Hard bound on the whole run: setup, warmup, measurement, drain, baseline and reporting.
const budgetS = 600 + o.warmupS + o.durationS + o.drainS;
const hardStop = setTimeout(() => {
  console.error(`bench: still running after ${budgetS} s; giving up`);
  process.exit(3);
}, budgetS * 1000);
hardStop.unref();

const pad = (s: string | number, n: number) => String(s).padStart(n);
const fmt = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : "-");

log(
  `bench: mode=${o.mode} ${o.rate > 0 ? `open loop ${o.rate} msg/s` : "closed loop"} senders=${o.senders} recipients=${o.recipients} ` +
    `conversations=${o.conversations} window=${o.window} size=${o.sizeBytes}B warmup=${o.warmupS}s duration=${o.durationS}s procs=${o.procs}`,
);

let target: Target | undefined;
let load: Awaited<ReturnType<typeof createLoad>> | undefined;
let exitCode = 0;
try {
  target =
    o.mode === "cluster"
      ? await clusterTarget(ROOT, { keepEnv: o.keepEnv, log })
      : await embeddedTarget(log, o.raw ? [process.env.C4A_KAFKA_BROKERS ?? "127.0.0.1:59092"] : null);
  const t = target;

  const tf = performance.now();
  log(`fixture: ${o.recipients} users, ${o.conversations} conversations…`);
  const fixture = await ensureFixture({
    gateways: t.gateways,
    recipients: o.recipients,
    conversations: o.conversations,
    cachePath: t.mode === "cluster" ? join(ROOT, "bench", ".cache", "fixture-cluster.json") : null,
    log,
  });
  log(`fixture: ready in ${((performance.now() - tf) / 1000).toFixed(1)} s (${fixture.created.users} users and ${fixture.created.conversations} conversations created)`);

  const stored = createStoredProbe(t.gateways, fixture, o.storedSample);
  const before = await stored.sweep();

  load = await createLoad({ root: ROOT, opts: o, gateways: t.gateways, fixture, log });
  const sampler = createProcSampler([...t.processes(), ...load.pids().map((pid, i) => ({ name: `bench-${i}`, pid, kind: "bench" as const }))]);
  const machineCpu = createMachineCpu();
  const lag = t.mode === "cluster" && t.brokers
    ? await createLagProbe(t.brokers, [
        { group: "ingest", topic: TOPICS.messageCreated },
        { group: "fanout", topic: TOPICS.messageStored },
      ]).catch(() => null)
    : null;

  // Timeline: warmup from startAt, measurement from measureAt to endAt, then the drain.
  const startAt = Math.ceil(nowMs() / 1000) * 1000 + 1000;
  const measureAt = startAt + o.warmupS * 1000;
  const endAt = measureAt + o.durationS * 1000;
  const perSec: Record<string, unknown>[] = [];
  const storedAt = new Map<number, number>([[0, await stored.sample()]]);
  load.start(startAt, endAt);
  const lagAt = new Map<number, Record<string, number>>();
  const cpuAt = new Map<number, number>();
  sampler.sample();
  machineCpu();

  const secOf = (at: number) => Math.round((at - startAt) / 1000);
  const expectedPerMessage = o.recipients / o.conversations - 1;
  let drainStart = 0;
  let lastProgress = { at: nowMs(), delivered: 0 };
  for (let sec = 1; ; sec++) {
    const boundary = startAt + sec * 1000;
    await Bun.sleep(Math.max(0, boundary - nowMs()));
    sampler.sample();
    cpuAt.set(sec, machineCpu());
    const sums = stored.sample();
    const lagP = lag?.lag();
    await Bun.sleep(Math.max(0, boundary + 450 - nowMs()));
    storedAt.set(sec, await sums);
    if (lagP) lagAt.set(sec, await lagP);
    const agg: Aggregate = load.second(sec - 1);
    const prevStored = storedAt.get(sec - 1);
    const storedEst = prevStored === undefined ? Number.NaN : ((storedAt.get(sec) ?? 0) - prevStored) * stored.scale;
    const phase = boundary <= measureAt ? "warmup" : boundary <= endAt ? "run" : "drain";
    const lagNow = lagAt.get(sec) ?? {};
    const apps = sampler.series.filter((s) => s.kind !== "bench").map((s) => [s.name, s.cpuPct[s.cpuPct.length - 1] ?? Number.NaN] as const);
    const top = [...apps].sort((a, b) => (b[1] || 0) - (a[1] || 0)).slice(0, 4);
    const row = {
      sec: sec - 1,
      phase,
      sent: agg.sent,
      accepted: agg.accepted,
      rejected: agg.rejected + agg.errors,
      skipped: agg.skipped,
      delivered: agg.delivered,
      stored_est: Math.round(storedEst),
      deliver_p50_ms: agg.deliver.percentileMs(50),
      deliver_p99_ms: agg.deliver.percentileMs(99),
      pipeline_p50_ms: agg.pipeline.percentileMs(50),
      pipeline_p99_ms: agg.pipeline.percentileMs(99),
      accept_p50_ms: agg.accept.percentileMs(50),
      accept_p99_ms: agg.accept.percentileMs(99),
      lag_ingest: lagNow.ingest,
      lag_fanout: lagNow.fanout,
      cpu_machine_pct: cpuAt.get(sec),
      in_flight: load.inFlight(),
      outstanding: load.outstanding(),
    };
    perSec.push(row);
    log(
      `[${pad(sec - 1, 3)}s ${phase.padEnd(6)}] sent ${pad(agg.sent, 6)} acc ${pad(agg.accepted, 6)} dlv ${pad(agg.delivered, 6)} ` +
        `stored~${pad(Number.isFinite(storedEst) ? Math.round(storedEst) : "-", 6)} | dlv p50 ${pad(fmt(row.deliver_p50_ms), 5)} p99 ${pad(fmt(row.deliver_p99_ms), 6)} ms ` +
        `acc p99 ${pad(fmt(row.accept_p99_ms), 5)} ms | lag in ${pad(lagNow.ingest ?? "-", 6)} out ${pad(lagNow.fanout ?? "-", 6)} ` +
        `undelivered ${pad(row.outstanding, 5)} | cpu ${fmt(row.cpu_machine_pct ?? Number.NaN)}% ${top.map(([n, c]) => `${n} ${fmt(c)}`).join(" ")}` +
        (agg.rejected + agg.errors + agg.skipped > 0 ? ` | rej ${agg.rejected} err ${agg.errors} skip ${agg.skipped}` : "") +
        (load.lastReject ? ` (${load.lastReject})` : ""),
    );
    if (boundary < endAt) continue;
    // Drain: until every accepted message reached its recipients, no progress for 5 s, or the limit.
    drainStart ||= boundary;
    const totals = load.totals();
    if (totals.delivered > lastProgress.delivered) lastProgress = { at: nowMs(), delivered: totals.delivered };
    const complete = totals.delivered >= totals.accepted * expectedPerMessage && load.inFlight() === 0;
    if (complete || nowMs() - lastProgress.at > 5_000 || nowMs() - drainStart > o.drainS * 1000) break;
  }
  await load.stop();
  lag?.close().catch(() => {});
  const after = await stored.sweep();
  const storedTotal = after.total - before.total;

  // Raw baseline: the same number of records, of the size of this run's message.created events.
  let raw: RawResult | null = null;
  if (o.raw && t.brokers) {
    const measured = load.window(secOf(measureAt), secOf(endAt));
    const sample = fixture.conversations[0]!;
    const draft = {
      messageId: crypto.randomUUID(),
      conversationId: sample.id,
      senderId: fixture.users[sample.members[0]!]!.id,
      type: "text" as const,
      content: "x".repeat(o.sizeBytes),
      attachments: null,
      metadata: null,
      targetChannels: ["delivery" as const],
      createdAt: Date.now(),
      origin: "delivery" as const,
    };
    const valueBytes = encodeMessageCreated(draft).byteLength;
    const partitions = await partitionsOf(t.brokers, TOPICS.messageCreated, 8);
    const n = Math.max(10_000, Math.min(3_000_000, measured.accepted));
    log(`kafka raw: ${n} records of ${valueBytes} B over ${partitions} partitions…`);
    raw = await kafkaRaw({ brokers: t.brokers, messages: n, valueBytes, partitions, keys: fixture.conversations.map((c) => c.id), log }).catch((err) => {
      log(`kafka raw: failed: ${err?.message ?? err}`);
      return null;
    });
    if (raw) log(`kafka raw: ${raw.raw_per_s} msg/s produce→consume (${raw.produce_per_s} msg/s produce only)`);
  }

  const result = buildResult({
    opts: o,
    target: t,
    load,
    startAt,
    measureAt,
    endAt,
    perSec,
    storedAt,
    storedScale: stored.scale,
    storedTotal,
    sampler: sampler.series,
    raw,
    fixtureCreated: fixture.created,
  });
  const files = writeResults(resolve(ROOT, o.outDir), o.tag, result, perSec);
  log("");
  log(
    `result: delivered ${result.delivered_per_s}/s, accepted ${result.accepted_per_s}/s, stored ${result.stored_per_s}/s; ` +
      `deliver p50 ${result.deliver_p50_ms} ms p99 ${result.deliver_p99_ms} ms; accept p50 ${result.accept_p50_ms} ms p99 ${result.accept_p99_ms} ms; ` +
      `kafka raw ${result.kafka_raw_per_s ?? "-"}/s; ratio ${result.ratio ?? "-"}`,
  );
  for (const f of files) log(`wrote ${f}`);
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  exitCode = 1;
} finally {
  await load?.kill();
  await target?.close().catch((err) => console.error(`bench: cleanup failed: ${err}`));
}
process.exit(exitCode);
