import { afterAll } from "bun:test";
import pg from "pg";
import { createMetadata } from "@chat4all/metadata";
import { describeMetadataContract } from "@chat4all/metadata/contract";

// Talks to loopback only: no proxies.
for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete process.env[k];

const url: string = process.env.C4A_POSTGRES_URL ?? "";
if (!url) throw new Error("C4A_POSTGRES_URL is not set (see infra/env.sh; start the server with `bash infra/up.sh postgres`)");

// Every run migrates into its own schema, dropped at the end, so runs and other suites never collide.
const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await c.connect().catch((cause: unknown) => {
    throw new Error(`postgres at ${new URL(url).host} is not reachable (start it with \`bash infra/up.sh postgres\`)`, { cause });
  });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
});

describeMetadataContract(`postgres schema ${schema}`, async () => {
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
  // Two stores migrating the same schema at once: the advisory lock lets exactly one apply each migration.
  const racers = [0, 1].map(() => createMetadata({ backend: "postgres", url, schema, poolSize: 2 }));
  await Promise.all(racers.map((m) => m.store.init()));
  await Promise.all(racers.map((m) => m.store.close()));
  const applied = await admin((c) => c.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`));
  if (applied.rows.length === 0 || new Set(applied.rows.map((r) => r.version)).size !== applied.rows.length) {
    throw new Error(`migrations recorded wrongly: ${JSON.stringify(applied.rows)}`);
  }
  return createMetadata({ backend: "postgres", url, schema, poolSize: 10 });
});
