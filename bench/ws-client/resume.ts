// The load worker's side of the resume storm (bench/resume-storm.ts): notes the last contiguous seq
// per conversation while sockets receive live messages, then reconnects them all at once with RESUME
// and checks every replayed seq (in order, no gap, no duplicate) until RESUMED for every conversation.
import { type WsClient, connectWebSocket } from "./client.ts";
import { type ResumeReport, type ResumeRequest, wallMs } from "./protocol.ts";

const dec = new TextDecoder();

interface Frame {
  type?: string;
  conversation_id?: string;
  sequence_number?: number;
}

const parse = (buf: Uint8Array, start: number, end: number): Frame | undefined => {
  try {
    return JSON.parse(dec.decode(buf.subarray(start, end))) as Frame;
  } catch {
    return undefined;
  }
};

/** Notes a live MESSAGE frame in `last` (conversation → last contiguous seq); false for any other frame. */
export function trackFrame(last: Map<string, number>, buf: Uint8Array, start: number, end: number): boolean {
  const f = parse(buf, start, end);
  if (f?.type !== "MESSAGE" || !f.conversation_id || typeof f.sequence_number !== "number") return false;
  const prev = last.get(f.conversation_id) ?? 0;
  if (f.sequence_number === prev + 1) last.set(f.conversation_id, prev + 1);
  return true;
}

/** One conversation of one reconnected socket. */
interface Conv {
  position: number;
  final: number;
  /** Highest seq such that every seq in (position, last] arrived. */
  last: number;
  max: number;
  /** Seqs above last + 1 that arrived early (a gap before them, so far). */
  ahead: Set<number>;
  resumed: boolean;
  done: boolean;
}

/** Reconnects `positions.length` sockets (positions[i]: what socket i saw before) and reports the replay. */
export async function resumeStorm(m: ResumeRequest, positions: Map<string, number>[]): Promise<ResumeReport> {
  const n = Math.min(positions.length, m.paths.length);
  const r: ResumeReport = {
    op: "resumed",
    sockets: n,
    caughtUp: 0,
    failed: 0,
    closedAfter: 0,
    closeCodes: {},
    retries: 0,
    gaps: 0,
    unresumed: 0,
    duplicates: 0,
    reordered: 0,
    frames: 0,
    resumedFrames: 0,
    errorFrames: 0,
    doneMs: [],
    fromOpenMs: [],
    openMs: [],
    errors: [],
    expectedFrames: 0,
  };
  const states = Array.from({ length: n }, (_, i) => {
    const convs = new Map<string, Conv>();
    for (const c of m.convs[i] ?? []) {
      const position = positions[i]?.get(c) ?? 0;
      const final = m.finals[c] ?? 0;
      r.expectedFrames += Math.max(0, final - position);
      convs.set(c, { position, final, last: position, max: position, ahead: new Set(), resumed: false, done: false });
    }
    return { convs, pending: convs.size, startedAt: 0, ended: false, ws: undefined as WsClient | undefined, retrying: false };
  });
  const clients: WsClient[] = [];
  let finished = 0;
  const finish = (i: number) => {
    const s = states[i];
    if (!s || s.ended) return;
    s.ended = true;
    finished++;
  };
  const onFrame = (i: number, buf: Uint8Array, start: number, end: number) => {
    // PRESENCE frames (the snapshot after each RESUME) are not part of the replay: skip them unparsed.
    if (buf[start + 9] === 80 && buf[start + 10] === 82) return;
    const s = states[i];
    const f = parse(buf, start, end);
    if (!s || !f) return;
    if (f.type === "ERROR") {
      r.errorFrames++;
      if (r.errors.length < 5) r.errors.push(dec.decode(buf.subarray(start, end)).slice(0, 200));
      if (m.retryMs && !s.retrying) {
        s.retrying = true;
        setTimeout(() => {
          s.retrying = false;
          const again = [...s.convs].filter(([, c]) => !c.resumed).map(([id, c]) => [id, c.last]);
          if (again.length === 0 || !s.ws?.isOpen) return;
          r.retries++;
          s.ws.send(JSON.stringify({ type: "RESUME", positions: Object.fromEntries(again) }));
        }, m.retryMs);
      }
      return;
    }
    const c = f.conversation_id ? s.convs.get(f.conversation_id) : undefined;
    if (!c) return;
    if (f.type === "MESSAGE" && typeof f.sequence_number === "number") {
      const q = f.sequence_number;
      r.frames++;
      if (q <= c.last || c.ahead.has(q)) r.duplicates++;
      else if (q === c.last + 1) {
        c.last = q;
        while (c.ahead.delete(c.last + 1)) c.last++;
      } else c.ahead.add(q);
      if (q < c.max) r.reordered++;
      c.max = Math.max(c.max, q);
    } else if (f.type === "RESUMED") {
      r.resumedFrames++;
      c.resumed = true;
    } else return;
    if (!c.done && c.resumed && c.last >= c.final) {
      c.done = true;
      if (--s.pending === 0) {
        const now = wallMs();
        r.caughtUp++;
        r.doneMs.push(now - m.t0);
        r.fromOpenMs.push(now - s.startedAt);
        finish(i);
      }
    }
  };

  let next = 0;
  const one = async () => {
    while (next < n) {
      const i = next++;
      const s = states[i];
      if (!s) continue;
      s.startedAt = wallMs();
      try {
        const ws = await connectWebSocket({
          hostname: m.hostname,
          port: m.port,
          path: m.paths[i] as string,
          localAddress: m.localAddresses[i % m.localAddresses.length],
          timeoutMs: m.timeoutMs,
          onMessage: (buf, start, end) => onFrame(i, buf, start, end),
          onClose: (code) => {
            if (!s.ended) {
              r.closedAfter++;
              r.closeCodes[code] = (r.closeCodes[code] ?? 0) + 1;
              finish(i);
            }
          },
        });
        clients.push(ws);
        s.ws = ws;
        r.openMs.push(wallMs() - m.t0);
        ws.send(JSON.stringify({ type: "RESUME", positions: Object.fromEntries([...s.convs].map(([c, v]) => [c, v.position])) }));
        if (s.pending === 0) {
          r.caughtUp++;
          r.doneMs.push(wallMs() - m.t0);
          r.fromOpenMs.push(wallMs() - s.startedAt);
          finish(i);
        }
      } catch (err) {
        r.failed++;
        if (r.errors.length < 5) r.errors.push(String(err));
        finish(i);
      }
    }
  };
  const deadline = m.t0 + m.timeoutMs;
  const connecting = Promise.all(Array.from({ length: Math.min(m.concurrency, n) }, one));
  while (finished < n && wallMs() < deadline) await Bun.sleep(5);
  // Gaps: a seq in (position, final] that never arrived though RESUMED said the replay was complete.
  for (const s of states)
    for (const c of s.convs.values()) {
      if (!c.resumed) r.unresumed++;
      if (!c.resumed || c.last >= c.final) continue;
      let seen = 0;
      for (const q of c.ahead) if (q <= c.final) seen++;
      r.gaps += c.final - c.last - seen;
    }
  for (const ws of clients) if (ws.isOpen) ws.close(1000, "bench done");
  void connecting;
  return r;
}
