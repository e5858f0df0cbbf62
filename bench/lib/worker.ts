// One load process of the benchmark: holds its share of recipient WebSockets (Bun's client, one
// socket per user, spread over the gateways) and runs its share of senders (HTTP POST /v1/messages
// with keep-alive). Reports per-second counters and latency histograms to the orchestrator over IPC.
// Bounded: exits after `stop`, when the orchestrator goes away, or at a hard deadline.
import { Histogram } from "./histogram.ts";
import { type FromWorker, type Slot, type ToWorker, type WorkerInit, nowMs } from "./protocol.ts";

let init: WorkerInit | undefined;
let startAt = 0;
let endAt = 0;
let stopped = false;
let inFlight = 0;
/** Own messages sent (not failed) and recipient frames seen: outstanding = sent × fanout − delivered. */
let sentOk = 0;
let deliveredOwn = 0;
let fanout = 1;
const windowWaiters: (() => void)[] = [];
const outstanding = () => sentOk - deliveredOwn / fanout;
let rejectSample: string | undefined;
const sockets: WebSocket[] = [];
let socketsOpen = 0;
const slots = new Map<number, { s: Slot; accept: Histogram; deliver: Histogram; pipeline: Histogram }>();

const post = (m: FromWorker) => process.send?.(m);

function slot(at: number) {
  const sec = Math.floor((at - startAt) / 1000);
  let x = slots.get(sec);
  if (!x) {
    const empty = { b: [], n: 0, sum: 0, min: 0, max: 0 };
    x = {
      s: { sec, sent: 0, accepted: 0, rejected: 0, errors: 0, skipped: 0, delivered: 0, echo: 0, duplicates: 0, gaps: 0, otherFrames: 0, accept: empty, deliver: empty, pipeline: empty },
      accept: new Histogram(),
      deliver: new Histogram(),
      pipeline: new Histogram(),
    };
    slots.set(sec, x);
  }
  return x;
}

/** Sends every finished second (all of them when `all`). */
function report(all = false) {
  if (!init || startAt === 0) return;
  const current = Math.floor((nowMs() - startAt) / 1000);
  const out: Slot[] = [];
  for (const [sec, x] of slots) {
    if (!all && sec >= current) continue;
    out.push({ ...x.s, accept: x.accept.toJSON(), deliver: x.deliver.toJSON(), pipeline: x.pipeline.toJSON() });
    slots.delete(sec);
  }
  post({ type: "slots", worker: init.worker, slots: out, inFlight, outstanding: Math.round(outstanding()), socketsOpen, rejectSample });
  rejectSample = undefined;
}

// ---- receiving ---------------------------------------------------------------------------------

function onFrame(user: number, lastSeq: Map<string, number>, data: string, marker: string) {
  const at = nowMs();
  const x = slot(at);
  const c = data.indexOf(marker);
  if (c < 0 || !data.startsWith('{"type":"MESSAGE"')) {
    x.s.otherFrames++;
    return;
  }
  // content = bench|<run>|<intended ms>|<sender index>|<padding>
  const t0 = c + marker.length;
  const t1 = data.indexOf("|", t0);
  const s1 = data.indexOf("|", t1 + 1);
  const sentAt = Number(data.slice(t0, t1));
  const sender = Number(data.slice(t1 + 1, s1));
  const q = data.indexOf('"sequence_number":');
  const seq = q < 0 ? 0 : Number.parseInt(data.slice(q + 18, q + 34), 10);
  const ci = data.indexOf('"conversation_id":"');
  const conv = ci < 0 ? "" : data.slice(ci + 19, ci + 55);
  const last = lastSeq.get(conv) ?? 0;
  if (seq <= last) x.s.duplicates++;
  else {
    if (last > 0 && seq > last + 1) x.s.gaps++;
    lastSeq.set(conv, seq);
  }
  if (sender === user) {
    x.s.echo++;
    return;
  }
  x.s.delivered++;
  x.deliver.recordMs(at - sentAt);
  const ca = data.indexOf('"created_at":"');
  if (ca >= 0) {
    const created = Date.parse(data.slice(ca + 14, ca + 38));
    if (Number.isFinite(created)) x.pipeline.recordMs(at - created);
  }
  deliveredOwn++;
  if (windowWaiters.length > 0 && init && outstanding() < init.window) windowWaiters.splice(0).forEach((w) => w());
}

async function openSockets(cfg: WorkerInit) {
  let opened = 0;
  let failed = 0;
  let closedEarly = 0;
  let firstError: string | undefined;
  const marker = `"content":"bench|${cfg.runId}|`;
  let next = 0;
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const { user, gateway } = cfg.sockets[i] as WorkerInit["sockets"][number];
      const ws = new WebSocket(`${gateway.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(cfg.tokens[user] as string)}`);
      const lastSeq = new Map<string, number>();
      let settled = false;
      const done = (ok: boolean, why?: string) => {
        if (settled) return;
        settled = true;
        if (ok) opened++;
        else {
          failed++;
          firstError ??= why;
        }
        resolve();
      };
      const timer = setTimeout(() => done(false, "open timed out"), 15_000);
      ws.onopen = () => {
        clearTimeout(timer);
        socketsOpen++;
        done(true);
      };
      ws.onmessage = (e) => onFrame(user, lastSeq, typeof e.data === "string" ? e.data : String(e.data), marker);
      ws.onclose = (e) => {
        clearTimeout(timer);
        if (settled && !stopped) {
          closedEarly++;
          firstError ??= `closed ${e.code} ${e.reason}`;
        }
        if (settled) socketsOpen = Math.max(0, socketsOpen - 1);
        done(false, `closed ${e.code} ${e.reason}`);
      };
      sockets.push(ws);
    });
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < cfg.sockets.length) await openOne(next++);
    }),
  );
  post({ type: "ready", worker: cfg.worker, opened, failed, closedEarly, firstError });
}

// ---- sending -----------------------------------------------------------------------------------

let k = 0;
function nextMessage(cfg: WorkerInit, intended: number) {
  const g = k++;
  const K = cfg.conversations.length;
  const conv = cfg.conversations[g % K] as WorkerInit["conversations"][number];
  const sender = conv.members[Math.floor(g / K) % conv.members.length] as number;
  const gateway = cfg.gateways[(g + cfg.worker) % cfg.gateways.length] as string;
  const head = `bench|${cfg.runId}|${intended.toFixed(3)}|${sender}|`;
  const pad = "x".repeat(Math.max(0, cfg.sizeBytes - head.length));
  const body = `{"idempotency_key":"${crypto.randomUUID()}","conversation_id":"${conv.id}","content":"${head}${pad}"}`;
  return { url: `${gateway}/v1/messages`, token: cfg.tokens[sender] as string, body };
}

async function sendOne(cfg: WorkerInit, intended: number) {
  const m = nextMessage(cfg, intended);
  slot(intended).s.sent++;
  inFlight++;
  sentOk++;
  try {
    const res = await fetch(m.url, {
      method: "POST",
      headers: { authorization: `Bearer ${m.token}`, "content-type": "application/json" },
      body: m.body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const at = nowMs();
    const x = slot(at);
    if (res.status === 202) {
      x.s.accepted++;
      x.accept.recordMs(at - intended);
    } else {
      x.s.rejected++;
      sentOk--;
      rejectSample ??= `${res.status} ${text.slice(0, 200)}`;
    }
  } catch (err) {
    slot(nowMs()).s.errors++;
    sentOk--;
    rejectSample ??= `error ${String(err).slice(0, 200)}`;
  } finally {
    inFlight--;
  }
}

/** Resolves once fewer than `window` own messages are outstanding (or after 100 ms, to re-check the clock). */
function windowOpen(cfg: WorkerInit): Promise<void> | undefined {
  if (outstanding() < cfg.window) return undefined;
  return new Promise<void>((r) => {
    windowWaiters.push(r);
    setTimeout(r, 100);
  });
}

async function closedLoop(cfg: WorkerInit) {
  await Promise.all(
    Array.from({ length: cfg.senders }, async () => {
      while (!stopped && nowMs() < endAt) {
        const wait = windowOpen(cfg);
        if (wait) {
          await wait;
          continue;
        }
        await sendOne(cfg, nowMs());
      }
    }),
  );
}

/** Open loop: message i is due at startAt + i/rate; sent late when `senders` requests are in flight. */
async function openLoop(cfg: WorkerInit) {
  const interval = 1000 / cfg.ratePerS;
  let issued = 0;
  const pending = new Set<Promise<void>>();
  while (!stopped) {
    const now = nowMs();
    if (now >= endAt) break;
    // Message i is due at startAt + i × interval: those with i ≤ elapsed / interval are due now.
    const due = Math.floor((now - startAt) / interval) + 1;
    // A backlog beyond one second of load is dropped (counted), so an overload cannot snowball.
    if (due - issued > cfg.ratePerS) {
      const skip = due - issued - Math.ceil(cfg.ratePerS);
      slot(now).s.skipped += skip;
      issued += skip;
    }
    while (issued < due && outstanding() >= cfg.window) {
      slot(now).s.skipped++;
      issued++;
    }
    while (issued < due && inFlight < cfg.senders) {
      const p = sendOne(cfg, startAt + issued * interval);
      pending.add(p);
      void p.finally(() => pending.delete(p));
      issued++;
    }
    await Bun.sleep(1);
  }
  await Promise.all(pending);
}

// ---- control -----------------------------------------------------------------------------------

let ticker: ReturnType<typeof setTimeout> | undefined;
function tick() {
  report();
  const next = startAt + Math.ceil((nowMs() - startAt + 1) / 1000) * 1000 + 20;
  ticker = setTimeout(tick, Math.max(10, next - nowMs()));
}

function stop() {
  if (stopped && !ticker) return;
  stopped = true;
  clearTimeout(ticker);
  ticker = undefined;
  for (const ws of sockets) {
    try {
      ws.close(1000, "bench done");
    } catch {
      // already closed
    }
  }
  report(true);
  post({ type: "done", worker: init?.worker ?? -1 });
  setTimeout(() => process.exit(0), 200);
}

process.on("message", (m: ToWorker) => {
  if (m.type === "init") {
    init = m;
    fanout = Math.max(1, (m.conversations[0]?.members.length ?? 2) - 1);
    void openSockets(m);
  } else if (m.type === "start" && init) {
    const cfg = init;
    startAt = m.startAt;
    endAt = m.endAt;
    setTimeout(tick, Math.max(0, startAt - nowMs()));
    // Hard bound: whatever happens, this process ends.
    setTimeout(() => stop(), endAt - nowMs() + (cfg.maxDrainS + 30) * 1000).unref?.();
    setTimeout(() => void (cfg.ratePerS > 0 ? openLoop(cfg) : closedLoop(cfg)), Math.max(0, startAt - nowMs()));
  } else if (m.type === "stop") stop();
});
process.on("disconnect", () => {
  stopped = true;
  process.exit(0);
});
