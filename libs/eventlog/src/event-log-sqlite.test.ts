import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEventLogContract } from "./contract.ts";
import { SqliteEventLog } from "./event-log-sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "c4a-eventlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventLogContract("sqlite", async () => new SqliteEventLog({ path: join(dir, "contract.db"), retryBaseMs: 30 }));
