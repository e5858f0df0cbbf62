import { expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetadata, createSqlDriver } from "./create.ts";
import { describeMetadataContract } from "./contract.ts";
import { SqlMetadata } from "./metadata-sql.ts";
import { loadMigrations } from "./migrate.ts";

describeMetadataContract("pglite in-memory", async () => createMetadata({ backend: "pglite" }));

test("metadata (pglite): a data folder keeps its rows and applies each migration once across restarts", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "c4a-metadata-"));
  try {
    const first = createMetadata({ backend: "pglite", dataDir });
    await first.store.init();
    const user = await first.store.createUser({ id: crypto.randomUUID(), username: "Alice", email: "a@x.test", name: "A", passwordHash: "h" });
    await first.store.close();

    const driver = createSqlDriver({ backend: "pglite", dataDir });
    const again = new SqlMetadata(driver);
    await again.init();
    expect(await again.getUserByUsername("ALICE")).toEqual(user);
    const versions = await driver.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(versions.map((r) => r.version)).toEqual((await loadMigrations()).map((m) => m.version));
    await again.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}, 30_000); // two PGlite starts, the first one creating a database

test("metadata: an unknown backend is refused by name", () => {
  expect(() => createMetadata({ backend: "sqlite" } as never)).toThrow('unknown metadata backend: "sqlite"');
});
