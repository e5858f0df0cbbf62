// `just bench-resume`: a reconnect storm after a gateway is killed. Two gateway instances (A, B) in
// cluster mode; U users × D devices = N sockets on A, in private conversations and groups that get
// some history (MessageStore + Bus, as the pipeline writes it) while the clients note the last seq
// they saw live; then A is SIGKILLed, a few more messages are written (history read back through B), and every
// client reconnects to B at once with RESUME from its last seen seqs. Measured: from the reconnect
// start until every socket has RESUMED for each of its conversations and every seq from its position
// + 1 to the conversation's last seq, with no gap and no duplicate. Writes bench/results/resume-storm.{json,md}.
//
//   bun bench/resume-storm.ts [--users 1000] [--devices 10] [--group-size 8] [--before 3] [--during 2]
//                             [--workers 2] [--concurrency 5000] [--timeout 30] [--retry-ms 0]
//
// A RESUME answered with ERROR is not retried by default (the measure is the gateway's own resume);
// `--retry-ms 500` makes the clients RESUME the conversations still missing again, as a robust client would.
import type { StoredMessage } from "@chat4all/kernel";
import { createMessageStore } from "@chat4all/message-store";
import { encodeDelivery, messageFrame } from "@chat4all/pipeline";
import { connect } from "nats";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Histogram } from "./lib/histogram.ts";
import { api, mapLimit } from "./lib/http.ts";
import {
  type BenchUser,
  type LoadWorker,
  RUN_DIR,
  SOURCE_ADDRESSES,
  createUsers,
  deadline,
  infraEnv,
  machine,
  metadataUrl,
  resultsDir,
  split,
  startGateway,
  startWorkers,
  stop,
} from "./ws-client/fixture.ts";
import { wallMs } from "./ws-client/protocol.ts";

const { values: a } = parseArgs({
  options: {
    users: { type: "string", default: "1000" },
    devices: { type: "string", default: "10" },
    "group-size": { type: "string", default: "8" },
    before: { type: "string", default: "3" },
    during: { type: "string", default: "2" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "5000" },
    timeout: { type: "string", default: "30" },
    "retry-ms": { type: "string", default: "0" },
    tag: { type: "string", default: "" },
  },
});
const U = Number(a.users);
const D = Number(a.devices);
const G = Number(a["group-size"]);
const BEFORE = Number(a.before);
const DURING = Number(a.during);
const N = U * D;
const TARGET_S = 10;
if (N / Number(a.workers) > 15_000) throw new Error("bench: at most 15,000 sockets per load worker");
deadline(180_000);

const t00 = Date.now();
const log = (msg: string) => console.log(`[resume-storm ${new Date().toISOString().slice(11, 19)} +${((Date.now() - t00) / 1000).toFixed(0)}s] ${msg}`);
const secs = (t: number) => ((Date.now() - t) / 1000).toFixed(1);

// ---- setup: metadata, two gateways, workers, users, conversations ------------------------------
const env = infraEnv();
env.C4A_METADATA_URL = await metadataUrl(env);
const workers = await startWorkers(Number(a.workers));
const [gwA, gwB] = await Promise.all([startGateway(env, "bench-resume-gwA"), startGateway(env, "bench-resume-gwB")]);
log(`gateway A ${gwA.url} (pid ${gwA.pid}), gateway B ${gwB.url} (pid ${gwB.pid})`);

let t = Date.now();
const users = await createUsers(gwB.url, U, `rs${Date.now().toString(36)}`, 32);
log(`${U} users in ${secs(t)} s`);

/** Conversations: user pairs (2k, 2k+1) in private ones, and U/2 groups of G members. */
const specs: { members: number[]; type: "private" | "group" }[] = [];
for (let i = 0; i + 1 < U; i += 2) specs.push({ type: "private", members: [i, i + 1] });
for (let g = 0; g < Math.floor(U / 2); g++) {
  const members = [...new Set(Array.from({ length: G }, (_, k) => (g * 7 + k * 13) % U))];
  if (members.length > 1) specs.push({ type: "group", members });
}
t = Date.now();
const convIds = await mapLimit(specs, 32, async (c) => {
  const [owner, ...rest] = c.members.map((i) => users[i] as BenchUser);
  const r = await api(gwB.url, "POST", "/v1/conversations", { token: owner?.token, body: { type: c.type, members: rest.map((u) => u.id) } });
  if (r.status !== 201 && r.status !== 200) throw new Error(`bench: create conversation: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.conversation_id as string;
});
const userConvs: string[][] = Array.from({ length: U }, () => []);
specs.forEach((c, k) => {
  for (const m of c.members) userConvs[m]?.push(convIds[k] as string);
});
log(`${specs.length} conversations in ${secs(t)} s`);

// Socket s belongs to user s % U (its device s / U); the workers get consecutive slices.
const socketUser = Array.from({ length: N }, (_, s) => s % U);
const parts = split(socketUser, workers.length);
const pathOf = (u: number) => `/ws?token=${(users[u] as BenchUser).token}`;

t = Date.now();
const opened = await Promise.all(
  workers.map((w, i) =>
    w.connect({ hostname: "127.0.0.1", port: gwA.port, paths: (parts[i] as number[]).map(pathOf), localAddresses: SOURCE_ADDRESSES, concurrency: 64, group: "a", track: true }),
  ),
);
const openFailed = opened.reduce((n, r) => n + r.failed, 0);
if (openFailed > 0) throw new Error(`bench: ${openFailed} of ${N} sockets failed to open on A: ${opened.flatMap((r) => r.errors).join("; ")}`);
log(`${N} sockets open on A in ${secs(t)} s`);
await Bun.sleep(1_000); // let A's Bus subscriptions settle

// History goes where the pipeline puts it: the MessageStore (Cassandra, the keyspace the gateways read)
// and the Bus (`deliver.conv.<id>`, the fanout worker's payload). Not through POST /v1/messages: the
// cluster's shared ingest/fanout apps are restarted by other suites with other keyspaces, which must
// not decide this benchmark's outcome.
const store = createMessageStore({
  backend: "cassandra",
  contactPoints: (env.C4A_CASSANDRA_CONTACT_POINTS ?? "").split(","),
  localDataCenter: env.C4A_CASSANDRA_DC ?? "datacenter1",
  keyspace: env.C4A_CASSANDRA_KEYSPACE || "chat4all",
});
await store.init();
const nc = await connect({ servers: env.C4A_NATS_URL?.split(","), name: "bench-resume-storm" });
const lastSeq = new Map<string, number>();

/** Stores `count` new messages in every conversation (senders rotate among members), then publishes them in seq order. */
async function post(count: number, phase: string) {
  const batch: StoredMessage[] = [];
  specs.forEach((c, k) => {
    const conversationId = convIds[k] as string;
    for (let j = 0; j < count; j++) {
      const seq = (lastSeq.get(conversationId) ?? 0) + 1;
      lastSeq.set(conversationId, seq);
      batch.push({
        messageId: crypto.randomUUID(),
        conversationId,
        senderId: (users[c.members[j % c.members.length] as number] as BenchUser).id,
        type: "text",
        content: `resume storm ${phase} ${j}`,
        attachments: null,
        metadata: null,
        targetChannels: ["delivery"],
        createdAt: Date.now(),
        origin: "delivery",
        seq,
      });
    }
  });
  for (let i = 0; i < batch.length; i += 500) await store.putMessages(batch.slice(i, i + 500));
  for (const m of batch) nc.publish(`deliver.conv.${m.conversationId}`, encodeDelivery({ kind: "m", conversationId: m.conversationId, seq: m.seq, frame: messageFrame(m) }));
  await nc.flush();
}

const socketsIn = new Map<string, number>();
for (const u of socketUser) for (const c of userConvs[u] ?? []) socketsIn.set(c, (socketsIn.get(c) ?? 0) + 1);
const expectedLive = [...socketsIn.values()].reduce((s, n) => s + n * BEFORE, 0);
t = Date.now();
await Promise.all(workers.map((w) => w.reset()));
await post(BEFORE, "before");
log(`${BEFORE * specs.length} messages stored and published in ${secs(t)} s; waiting for ${expectedLive} live deliveries on A`);
{
  let last = -1;
  let since = Date.now();
  const until = Date.now() + 30_000;
  for (;;) {
    const got = workers.reduce((n, w) => n + w.received, 0);
    if (got >= expectedLive || Date.now() > until) break;
    if (got !== last) [last, since] = [got, Date.now()];
    else if (Date.now() - since > 5_000) break;
    await Bun.sleep(20);
  }
}
const liveStats = await Promise.all(workers.map((w) => w.stats("a")));
const liveReceived = liveStats.reduce((n, s) => n + s.received, 0);
log(`live on A: ${liveReceived} of ${expectedLive} deliveries in ${secs(t)} s`);

// ---- the kill, the outage, the storm -----------------------------------------------------------
gwA.proc.kill("SIGKILL");
await gwA.proc.exited;
const killedAt = Date.now();
log("gateway A killed (SIGKILL)");
t = Date.now();
await post(DURING, "during");
/** The conversations' last seq, checked through B's history API (what the store holds). */
const finals: Record<string, number> = Object.fromEntries(lastSeq);
const want = BEFORE + DURING;
const stored = await mapLimit(convIds, 32, async (c, k) => {
  const r = await api(gwB.url, "GET", `/v1/messages/${c}?limit=1`, { token: users[specs[k]?.members[0] as number]?.token });
  return Array.isArray(r.body) ? Number(r.body[0]?.sequence_number ?? 0) : -r.status;
});
const wrong = stored.filter((q) => q !== want).length;
if (wrong > 0) throw new Error(`bench: ${wrong} conversations' history through B does not end at seq ${want} (e.g. ${stored.find((q) => q !== want)})`);
await nc.drain();
await store.close();
log(`${DURING * specs.length} messages stored and published during the outage in ${secs(t)} s (outage ${secs(killedAt)} s so far)`);

const t0 = wallMs();
const reports = await Promise.all(
  workers.map((w, i) =>
    w.resume({
      group: "a",
      hostname: "127.0.0.1",
      port: gwB.port,
      paths: (parts[i] as number[]).map(pathOf),
      convs: (parts[i] as number[]).map((u) => userConvs[u] as string[]),
      finals,
      localAddresses: SOURCE_ADDRESSES,
      concurrency: Number(a.concurrency),
      t0,
      timeoutMs: Number(a.timeout) * 1000,
      retryMs: Number(a["retry-ms"]),
    }),
  ),
);
const stormS = (wallMs() - t0) / 1000;
await Promise.all([stop(gwB.proc, 15_000), ...workers.map((w) => w.exit())]);

// ---- results ------------------------------------------------------------------------------------
const sum = (f: (r: (typeof reports)[number]) => number) => reports.reduce((n, r) => n + f(r), 0);
const hist = (xs: number[]) => {
  const h = new Histogram();
  for (const x of xs) h.recordMs(x);
  return h.summary();
};
const done = reports.flatMap((r) => r.doneMs);
const caughtUp = sum((r) => r.caughtUp);
const gaps = sum((r) => r.gaps);
const duplicates = sum((r) => r.duplicates);
const reordered = sum((r) => r.reordered);
const allCaughtUpS = caughtUp === N ? Math.round(Math.max(...done)) / 1000 : null;
const catchUp = hist(done);
const fromOpen = hist(reports.flatMap((r) => r.fromOpenMs));
const open = hist(reports.flatMap((r) => r.openMs));
const met = allCaughtUpS !== null && allCaughtUpS <= TARGET_S && gaps === 0 && duplicates === 0 && reordered === 0;
const result = {
  benchmark: "resume-storm",
  date: new Date().toISOString(),
  clients: N,
  caught_up: caughtUp,
  failed: N - caughtUp,
  gaps,
  duplicates,
  reordered,
  all_caught_up_s: allCaughtUpS,
  p50_ms: catchUp.p50_ms,
  p99_ms: catchUp.p99_ms,
  target_s: TARGET_S,
  met,
  users: U,
  devices_per_user: D,
  conversations: specs.length,
  private_conversations: specs.filter((c) => c.type === "private").length,
  group_size: G,
  messages_before_kill_per_conversation: BEFORE,
  messages_during_outage_per_conversation: DURING,
  conversations_per_socket_mean: Math.round((socketUser.reduce((n, u) => n + (userConvs[u]?.length ?? 0), 0) / N) * 100) / 100,
  live_before_kill: { delivered: liveReceived, expected: expectedLive },
  replay: {
    frames: sum((r) => r.frames),
    expected_frames: sum((r) => r.expectedFrames),
    resumed_frames: sum((r) => r.resumedFrames),
    unresumed_conversations: sum((r) => r.unresumed),
    error_frames: sum((r) => r.errorFrames),
    handshake_failed: sum((r) => r.failed),
    closed_by_server: sum((r) => r.closedAfter),
    close_codes: reports.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.closeCodes)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    resume_retries: sum((r) => r.retries),
    errors: reports.flatMap((r) => r.errors).slice(0, 5),
  },
  catch_up_from_storm_start: catchUp,
  catch_up_from_own_connect: fromOpen,
  handshake_done_from_storm_start: open,
  storm_wall_s: Math.round(stormS * 1000) / 1000,
  reconnect_concurrency_per_worker: Number(a.concurrency),
  resume_retry_ms: Number(a["retry-ms"]),
  load_workers: workers.length,
  source_addresses: SOURCE_ADDRESSES,
  machine: machine(),
};
const n = (x: number) => x.toLocaleString("en-US");
const md = `# Resume storm after a gateway is killed (\`just bench-resume\`)

${result.date} · Bun ${result.machine.bun} · ${result.machine.cpus} CPUs · load average ${result.machine.load_avg_1m} at the end

**${n(N)} sockets** (${n(U)} users × ${D} devices) on gateway instance A, in ${n(specs.length)} conversations
(${result.private_conversations} private, the rest groups of ${G}; ${result.conversations_per_socket_mean} per socket on average). Each
conversation got ${BEFORE} messages through the whole path (written to the MessageStore, Cassandra, then published on the Bus,
NATS, as the pipeline does → A → sockets) while the clients noted the last contiguous seq they saw (${n(liveReceived)} of ${n(expectedLive)}
live deliveries arrived). Then A was **SIGKILLed**, ${DURING} more messages per conversation were stored and published (B's history API checked they are there),
and **all ${n(N)} clients reconnected to B at once** (up to ${n(Number(a.concurrency))} handshakes in flight per load worker,
${workers.length} workers) with \`RESUME\` from their positions. A socket is caught up when it has \`RESUMED\` for every one
of its conversations and every seq from its position + 1 to the conversation's last seq.

| clients | caught up | gaps | duplicates | reordered | all caught up | per-socket p50 / p99 | target |
|---|---|---|---|---|---|---|---|
| ${n(N)} | ${n(caughtUp)} | ${gaps} | ${duplicates} | ${reordered} | ${allCaughtUpS === null ? "**not all**" : `**${allCaughtUpS} s**`} | ${catchUp.p50_ms} / ${catchUp.p99_ms} ms | ≤ ${TARGET_S} s: ${met ? "met" : "**missed**"} |

- Times are from the storm's start (the same instant for every client). From each socket's own connection
  attempt: p50 ${fromOpen.p50_ms} ms, p99 ${fromOpen.p99_ms} ms. WebSocket handshakes done: p50 ${open.p50_ms} ms, p99 ${open.p99_ms} ms after the start.
- Replay: ${n(result.replay.frames)} MESSAGE frames received (a perfect replay sends ${n(result.replay.expected_frames)}),
  ${n(result.replay.resumed_frames)} RESUMED; ${result.replay.handshake_failed} handshakes failed, ${result.replay.closed_by_server} sockets closed by the server
  (close codes ${JSON.stringify(result.replay.close_codes)}),
  ${result.replay.unresumed_conversations} conversation replays without RESUMED, ${result.replay.error_frames} ERROR frames
  (e.g. ${result.replay.errors[0] ?? "none"}); RESUME re-sent after an ERROR: ${Number(a["retry-ms"]) > 0 ? `${result.replay.resume_retries} times (--retry-ms ${a["retry-ms"]})` : "never (a client that gets ERROR for its RESUME is not caught up)"}.
- Gaps: seqs in (position, last] missing after RESUMED; duplicates: a seq twice or at/below the position.
- Loopback only: ${workers.length} load-worker processes (raw RFC 6455 client) bound to 127.0.0.2–9; the gateways,
  the cluster's ingest/fanout and its Kafka, Cassandra, NATS, PostgreSQL share this machine's ${result.machine.cpus} cores.
`;
const dir = resultsDir();
mkdirSync(dir, { recursive: true });
const name = a.tag ? `resume-storm-${a.tag}` : "resume-storm";
writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(dir, `${name}.md`), md);
log(`${caughtUp}/${N} caught up, all in ${allCaughtUpS ?? "—"} s, p50 ${catchUp.p50_ms} ms, p99 ${catchUp.p99_ms} ms, gaps ${gaps}, duplicates ${duplicates}; wrote ${dir}/${name}.{json,md} (logs: ${RUN_DIR})`);
process.exit(0);
