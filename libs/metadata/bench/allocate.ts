// Sequencer.allocate throughput: bun libs/metadata/bench/allocate.ts [pglite|postgres] (postgres reads C4A_POSTGRES_URL).
import pg from "pg";
import { createMetadata, type Metadata } from "../src/index.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const backend = process.argv[2] ?? "pglite";

async function setup(): Promise<{ m: Metadata; cleanup: () => Promise<void> }> {
  if (backend === "pglite") {
    const m = createMetadata({ backend: "pglite" });
    return { m, cleanup: async () => {} };
  }
  const url = process.env.C4A_POSTGRES_URL;
  if (!url) throw new Error("C4A_POSTGRES_URL is not set");
  const schema = `bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client(url);
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const m = createMetadata({ backend: "postgres", url, schema, poolSize: 10 });
  return { m, cleanup: () => admin(`DROP SCHEMA ${schema} CASCADE`) };
}

async function newConversation(m: Metadata): Promise<string> {
  const user = crypto.randomUUID();
  await m.store.createUser({ id: user, username: `b_${user}`, email: `${user}@b.test`, name: "b", passwordHash: "x" });
  const id = crypto.randomUUID();
  await m.store.createConversation({ id, type: "group", createdBy: user, members: [], metadata: null });
  return id;
}

/** `workers` loops, each on its own conversation (or all on one), allocating `batch` fresh ids per call. */
async function run(m: Metadata, batch: number, workers: number, shared: boolean): Promise<string> {
  const one = shared ? await newConversation(m) : null;
  const convs = await Promise.all(Array.from({ length: workers }, async () => one ?? newConversation(m)));
  let ids = 0;
  let calls = 0;
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    convs.map(async (c) => {
      while (performance.now() < end) {
        const batchIds = Array.from({ length: batch }, () => crypto.randomUUID());
        const s = performance.now();
        await m.sequencer.allocate(c, batchIds);
        lat.push(performance.now() - s);
        ids += batch;
        calls++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const p = (q: number) => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0).toFixed(2);
  return `batch=${batch} workers=${workers}${shared ? " (one conversation)" : ""}: ${Math.round(ids / secs)} ids/s, ${Math.round(calls / secs)} calls/s, p50 ${p(0.5)} ms p99 ${p(0.99)} ms`;
}

const { m, cleanup } = await setup();
try {
  await m.store.init();
  console.log(`${backend}:`);
  for (const [batch, workers, shared] of [[1, 1, false], [100, 1, false], [1, 8, false], [100, 8, false], [1, 8, true], [100, 8, true]] as const) {
    console.log("  " + (await run(m, batch, workers, shared)));
  }
} finally {
  await m.store.close();
  await cleanup();
}
