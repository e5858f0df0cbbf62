// The load: spawns the worker processes, hands each its share of sockets and senders, and merges
// their per-second reports.
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { BenchOptions } from "./args.ts";
import type { Fixture } from "./fixture.ts";
import { Histogram } from "./histogram.ts";
import type { FromWorker, Slot, WorkerInit } from "./protocol.ts";

/** Counters and histograms of one second, or of a range of seconds, over every worker. */
export interface Aggregate {
  sent: number;
  accepted: number;
  rejected: number;
  errors: number;
  skipped: number;
  delivered: number;
  echo: number;
  duplicates: number;
  gaps: number;
  otherFrames: number;
  accept: Histogram;
  deliver: Histogram;
  pipeline: Histogram;
}

const COUNTERS = ["sent", "accepted", "rejected", "errors", "skipped", "delivered", "echo", "duplicates", "gaps", "otherFrames"] as const;

const empty = (): Aggregate => ({
  sent: 0, accepted: 0, rejected: 0, errors: 0, skipped: 0, delivered: 0, echo: 0, duplicates: 0, gaps: 0, otherFrames: 0,
  accept: new Histogram(), deliver: new Histogram(), pipeline: new Histogram(),
});

/** Starts the workers and waits until every socket is open (or failed). */
export async function createLoad(args: { root: string; opts: BenchOptions; gateways: string[]; fixture: Fixture; log: (l: string) => void }) {
  const { opts, gateways, fixture, log } = args;
  const P = opts.procs;
  const runId = Math.random().toString(36).slice(2, 10);
  const seconds = new Map<number, Aggregate>();
  const inFlightOf = new Map<number, number>();
  const outstandingOf = new Map<number, number>();
  const done = new Set<number>();
  let lastReject: string | undefined;
  let readyCount = 0;
  let onReady: () => void = () => {};
  const allReady = new Promise<void>((r) => (onReady = r));
  const readiness: Extract<FromWorker, { type: "ready" }>[] = [];

  const onMessage = (m: FromWorker) => {
    if (m.type === "ready") {
      readiness.push(m);
      if (++readyCount === P) onReady();
    } else if (m.type === "slots") {
      inFlightOf.set(m.worker, m.inFlight);
      outstandingOf.set(m.worker, m.outstanding);
      if (m.rejectSample) lastReject = m.rejectSample;
      for (const s of m.slots) merge(s);
    } else if (m.type === "done") done.add(m.worker);
  };
  const merge = (s: Slot) => {
    let a = seconds.get(s.sec);
    if (!a) seconds.set(s.sec, (a = empty()));
    for (const k of COUNTERS) a[k] += s[k];
    a.accept.merge(s.accept);
    a.deliver.merge(s.deliver);
    a.pipeline.merge(s.pipeline);
  };

  const tokens = fixture.users.map((u) => u.token as string);
  const conversations = fixture.conversations.map((c) => ({ id: c.id, members: c.members }));
  const workers: Subprocess[] = [];
  for (let w = 0; w < P; w++) {
    const proc = Bun.spawn(["bun", join(args.root, "bench", "lib", "worker.ts")], {
      cwd: args.root,
      env: { ...process.env },
      stdout: "inherit",
      stderr: "inherit",
      ipc: (m) => onMessage(m as FromWorker),
    });
    workers.push(proc);
    // Conversation j and its members' sockets belong to process j % P: a process sees every
    // delivery of what it sends, so it can bound its own undelivered messages (the window).
    const own = conversations.filter((_, j) => j % P === w);
    const sockets: WorkerInit["sockets"] = own.flatMap((c) => c.members.map((u) => ({ user: u, gateway: gateways[u % gateways.length] as string })));
    const share = (total: number) => Math.floor(total / P) + (w < total % P ? 1 : 0);
    const init: WorkerInit = {
      type: "init",
      worker: w,
      workers: P,
      runId,
      gateways,
      tokens,
      sockets,
      conversations: own,
      senders: Math.max(1, share(opts.senders)),
      ratePerS: opts.rate / P,
      sizeBytes: opts.sizeBytes,
      maxDrainS: opts.drainS,
      window: Math.max(1, share(opts.window)),
    };
    proc.send(init);
  }
  const t0 = performance.now();
  await Promise.race([allReady, Bun.sleep(180_000)]);
  const opened = readiness.reduce((s, r) => s + r.opened, 0);
  const failed = readiness.reduce((s, r) => s + r.failed, 0);
  log(`sockets: ${opened} open, ${failed} failed in ${((performance.now() - t0) / 1000).toFixed(1)} s${readiness.find((r) => r.firstError) ? ` (first error: ${readiness.find((r) => r.firstError)?.firstError})` : ""}`);
  if (readyCount < P) throw new Error("load processes did not open their sockets within 180 s");
  if (opened < fixture.users.length * 0.99) throw new Error(`only ${opened} of ${fixture.users.length} sockets opened`);

  const window = (from: number, to: number) => {
    const a = empty();
    for (const [sec, s] of seconds) {
      if (sec < from || sec >= to) continue;
      for (const k of COUNTERS) a[k] += s[k];
      a.accept.merge(s.accept);
      a.deliver.merge(s.deliver);
      a.pipeline.merge(s.pipeline);
    }
    return a;
  };
  return {
    runId,
    socketsOpened: opened,
    socketsFailed: failed,
    pids: () => workers.map((p) => p.pid),
    start(startAt: number, endAt: number) {
      for (const p of workers) p.send({ type: "start", startAt, endAt });
    },
    second: (sec: number) => seconds.get(sec) ?? empty(),
    window,
    totals: () => window(-1_000_000, 1_000_000),
    inFlight: () => [...inFlightOf.values()].reduce((a, b) => a + b, 0),
    outstanding: () => [...outstandingOf.values()].reduce((a, b) => a + b, 0),
    get lastReject() {
      const r = lastReject;
      lastReject = undefined;
      return r;
    },
    /** Asks every worker for its last report and waits (bounded) for them to exit. */
    async stop() {
      for (const p of workers) {
        try {
          p.send({ type: "stop" });
        } catch {
          // already gone
        }
      }
      const deadline = Date.now() + 10_000;
      while (done.size < P && Date.now() < deadline) await Bun.sleep(50);
      await Promise.race([Promise.all(workers.map((p) => p.exited)), Bun.sleep(3_000)]);
    },
    async kill() {
      for (const p of workers) if (p.exitCode === null) p.kill("SIGKILL");
    },
  };
}
