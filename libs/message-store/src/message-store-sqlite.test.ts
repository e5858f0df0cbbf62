import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeMessageStoreContract } from "./contract.ts";
import { createSqliteMessageStore } from "./message-store-sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "c4a-msgstore-"));
const path = join(dir, "messages.db");

describeMessageStoreContract("sqlite", async () => createSqliteMessageStore({ path }), {
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  pageMs: 50,
});
