import { Database } from "bun:sqlite";
import { resolve as resolvePath } from "node:path";
import { type Logger, sleep } from "@chat4all/kernel";
import type { AppendRecord, ConsumeOptions, EventBatch, EventLog, EventRecord, TopicSpec } from "./event-log.ts";
import { partitionFor } from "./partitioner.ts";
import { type HubMember, type SqliteHub, acquireHub, releaseHub } from "./sqlite-hub.ts";
import { checkAppend, checkTopics, dlqRecord, retryDelay } from "./shared.ts";

/** Options of the embedded event log. */
export interface SqliteEventLogOptions {
  /** Database file (created if missing) or ":memory:". One process owns a file. */
  path: string;
  /** Prune records older than this that every group with a committed offset has consumed. Off when absent. */
  retentionMs?: number;
  /** How often retention runs (default min(retentionMs, 60 s)). */
  pruneIntervalMs?: number;
  /** Fallback poll of idle consumers, for writers outside this process (default 1000). */
  pollMs?: number;
  /** Handler retry backoff: base and cap in ms (defaults 100 and 5000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** "full" (default): a resolved append survives an OS crash or power loss; "normal": a process crash only. */
  synchronous?: "normal" | "full";
  logger?: Logger;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS heads (topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  key TEXT NOT NULL, value BLOB NOT NULL, headers TEXT, ts INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, offset)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offsets (grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL,
  PRIMARY KEY (grp, topic, partition)) STRICT, WITHOUT ROWID;
`;

interface PendingAppend {
  topic: string;
  partitions: number;
  records: AppendRecord[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface RecordRow {
  offset: number;
  key: string;
  value: Uint8Array;
  headers: string | null;
  ts: number;
}

/**
 * EventLog on one SQLite file (WAL). Appends issued in the same event-loop turn are group-committed
 * in ONE transaction; offsets are per (topic, partition) and dense; partition = Kafka's murmur2 of the
 * key (see partitioner.ts). Consumers in this process are woken on append; members of one group split
 * partitions round-robin and take over those of a member that stops.
 */
export class SqliteEventLog implements EventLog {
  readonly #db: Database;
  readonly #hubKey: string | null;
  readonly #hub: SqliteHub;
  readonly #opts: SqliteEventLogOptions;
  readonly #stop = new AbortController();
  readonly #consumers = new Set<Promise<void>>();
  readonly #topics = new Map<string, number>();
  #pending: PendingAppend[] = [];
  #scheduled = false;
  #closed = false;
  #pruneTimer: ReturnType<typeof setInterval> | undefined;
  #nextMemberId = 1;
  #commits = 0;

  /** Append transactions committed so far (each holds every append of one event-loop turn). */
  get commits(): number {
    return this.#commits;
  }

  constructor(opts: SqliteEventLogOptions) {
    this.#opts = opts;
    this.#hubKey = opts.path === ":memory:" || opts.path === "" ? null : resolvePath(opts.path);
    try {
      this.#db = new Database(opts.path, { create: true, strict: true });
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec(`PRAGMA synchronous = ${opts.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      this.#db.exec("PRAGMA busy_timeout = 5000");
      this.#db.exec(SCHEMA);
    } catch (cause) {
      throw new Error(`sqlite event log: open ${opts.path}`, { cause });
    }
    this.#hub = acquireHub(this.#hubKey);
    if (opts.retentionMs !== undefined) {
      const every = opts.pruneIntervalMs ?? Math.min(opts.retentionMs, 60_000);
      this.#pruneTimer = setInterval(() => this.prune(), every);
      this.#pruneTimer.unref?.();
    }
  }

  readonly #q = {
    topic: () => this.#db.query<{ partitions: number }, [string]>("SELECT partitions FROM topics WHERE name = ?"),
    head: () => this.#db.query<{ next: number }, [string, number]>("SELECT next FROM heads WHERE topic = ? AND partition = ?"),
    setHead: () => this.#db.query("UPDATE heads SET next = ? WHERE topic = ? AND partition = ?"),
    insert: () => this.#db.query("INSERT INTO records (topic, partition, offset, key, value, headers, ts) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    committed: () => this.#db.query<{ next: number }, [string, string, number]>("SELECT next FROM offsets WHERE grp = ? AND topic = ? AND partition = ?"),
    commit: () => this.#db.query("INSERT INTO offsets (grp, topic, partition, next) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET next = excluded.next"),
    startAt: () => this.#db.query("INSERT OR IGNORE INTO offsets (grp, topic, partition, next) SELECT ?, topic, partition, next FROM heads WHERE topic = ?"),
    fetch: () => this.#db.query<RecordRow, [string, number, number, number]>(
      "SELECT offset, key, value, headers, ts FROM records WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
    ),
  };

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.#assertOpen();
    const specs = checkTopics(topics);
    const tx = this.#db.transaction(() => {
      for (const { name, partitions } of specs) {
        const row = this.#q.topic().get(name);
        if (row && row.partitions !== partitions) {
          throw new Error(`sqlite event log: topic ${name} has ${row.partitions} partitions, not ${partitions}`);
        }
        if (row) continue;
        this.#db.query("INSERT INTO topics (name, partitions) VALUES (?, ?)").run(name, partitions);
        const head = this.#db.query("INSERT INTO heads (topic, partition, next) VALUES (?, ?, 0)");
        for (let p = 0; p < partitions; p++) head.run(name, p);
      }
    });
    tx.immediate();
    for (const s of specs) this.#topics.set(s.name, s.partitions);
  }

  append(topic: string, records: AppendRecord[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`sqlite event log: append to ${topic}: closed`));
    try {
      checkAppend(topic, records);
    } catch (err) {
      return Promise.reject(err);
    }
    const partitions = this.#partitions(topic);
    if (partitions === undefined) return Promise.reject(new Error(`sqlite event log: append to ${topic}: topic not ensured`));
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ topic, partitions, records, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Writes every pending append in one transaction, then settles them and wakes consumers. */
  readonly #flush = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const now = Date.now();
    try {
      this.#db.transaction(() => this.#write(batch, now)).immediate();
      this.#commits++;
    } catch (cause) {
      for (const a of batch) a.reject(new Error(`sqlite event log: append to ${a.topic}`, { cause }));
      return;
    }
    for (const a of batch) a.resolve();
    this.#hub.notify(batch.map((a) => a.topic));
  };

  #write(batch: PendingAppend[], now: number): void {
    const heads = new Map<string, { topic: string; partition: number; next: number }>();
    const insert = this.#q.insert();
    const head = this.#q.head();
    for (const a of batch) {
      for (const r of a.records) {
        const partition = partitionFor(r.key, a.partitions);
        const hk = `${a.topic}\0${partition}`;
        let h = heads.get(hk);
        if (!h) {
          const row = head.get(a.topic, partition);
          if (!row) throw new Error(`missing head of ${a.topic}/${partition}`);
          heads.set(hk, (h = { topic: a.topic, partition, next: row.next }));
        }
        const headers = r.headers && Object.keys(r.headers).length > 0 ? JSON.stringify(r.headers) : null;
        insert.run(a.topic, partition, h.next++, r.key, r.value, headers, now);
      }
    }
    const setHead = this.#q.setHead();
    for (const h of heads.values()) setHead.run(h.next, h.topic, h.partition);
  }

  consume(opts: ConsumeOptions): Promise<void> {
    const run = this.#consume(opts);
    this.#consumers.add(run);
    void run.finally(() => this.#consumers.delete(run)).catch(() => {});
    return run;
  }

  async #consume(opts: ConsumeOptions): Promise<void> {
    this.#assertOpen();
    const topics = opts.topics.map((t) => {
      const n = this.#partitions(t);
      if (n === undefined) throw new Error(`sqlite event log: consume ${t} (group ${opts.group}): topic not ensured`);
      return [t, n] as const;
    });
    const signal = AbortSignal.any([opts.signal, this.#stop.signal]);
    const maxBatch = Math.max(1, opts.maxBatch ?? 500);
    if (opts.fromBeginning === false) {
      this.#flush();
      const startAt = this.#q.startAt();
      this.#db.transaction(() => topics.forEach(([t]) => startAt.run(opts.group, t))).immediate();
    }
    const group = this.#hub.group(opts.group);
    const member: HubMember = { id: this.#nextMemberId++, topics: new Set(opts.topics) };
    group.members.push(member);
    this.#hub.notify(member.topics);
    const tasks = new Set<Promise<void>>();
    try {
      while (!signal.aborted) {
        for (const [topic, count] of topics) {
          for (const partition of this.#hub.assigned(group, member, topic, count)) {
            const key = `${topic}\0${partition}`;
            if (group.inflight.has(key)) continue;
            const batch = this.#fetch(opts.group, topic, partition, maxBatch);
            if (!batch) continue;
            group.inflight.add(key);
            const task = this.#handle(opts, batch, signal).finally(() => {
              group.inflight.delete(key);
              tasks.delete(task);
              this.#hub.notify([topic]);
            });
            tasks.add(task);
          }
        }
        await this.#hub.wait(member.topics, this.#opts.pollMs ?? 1000, signal);
      }
    } finally {
      await Promise.allSettled([...tasks]);
      group.members.splice(group.members.indexOf(member), 1);
      if (group.members.length === 0 && group.inflight.size === 0) this.#hub.groups.delete(opts.group);
      this.#hub.notify(member.topics);
    }
  }

  #fetch(group: string, topic: string, partition: number, max: number): EventBatch | null {
    const from = this.#q.committed().get(group, topic, partition)?.next ?? 0;
    const rows = this.#q.fetch().all(topic, partition, from, max);
    if (rows.length === 0) return null;
    const records = rows.map(
      (r): EventRecord => ({
        topic,
        partition,
        offset: String(r.offset),
        key: r.key,
        value: r.value,
        headers: r.headers ? (JSON.parse(r.headers) as Record<string, string>) : {},
        timestamp: r.ts,
      }),
    );
    return { topic, partition, records };
  }

  /** Runs the handler until it succeeds (same batch, capped backoff) or the consumer stops; commits on success. */
  async #handle(opts: ConsumeOptions, batch: EventBatch, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.handle(batch);
        break;
      } catch (err) {
        this.#opts.logger?.warn("event log: handler failed; retrying the batch", {
          group: opts.group, topic: batch.topic, partition: batch.partition, attempt, error: err instanceof Error ? err : String(err),
        });
        if (signal.aborted) return;
        await sleep(retryDelay(attempt, this.#opts.retryBaseMs, this.#opts.retryMaxMs), signal);
        if (signal.aborted) return;
      }
    }
    const last = batch.records[batch.records.length - 1];
    if (last && !this.#closed) this.#q.commit().run(opts.group, batch.topic, batch.partition, Number(last.offset) + 1);
  }

  deadLetter(record: EventRecord, reason: string): Promise<void> {
    return this.append(`${record.topic}.dlq`, [dlqRecord(record, reason)]);
  }

  async healthy(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      return this.#db.query<{ ok: number }, []>("SELECT 1 AS ok").get()?.ok === 1;
    } catch {
      return false;
    }
  }

  /** Deletes records older than `retentionMs` below every group's committed offset; returns how many. */
  prune(now = Date.now()): number {
    if (this.#closed || this.#opts.retentionMs === undefined) return 0;
    const cutoff = now - this.#opts.retentionMs;
    const lows = this.#db
      .query<{ topic: string; partition: number; low: number }, []>("SELECT topic, partition, MIN(next) AS low FROM offsets GROUP BY topic, partition")
      .all();
    const del = this.#db.query("DELETE FROM records WHERE topic = ? AND partition = ? AND offset < ? AND ts < ?");
    let deleted = 0;
    this.#db.transaction(() => {
      for (const l of lows) deleted += del.run(l.topic, l.partition, l.low, cutoff).changes;
    }).immediate();
    return deleted;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#stop.abort();
    await Promise.allSettled([...this.#consumers]);
    this.#flush();
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    releaseHub(this.#hubKey, this.#hub);
    this.#db.close();
  }

  #partitions(topic: string): number | undefined {
    let n = this.#topics.get(topic);
    if (n === undefined) {
      n = this.#q.topic().get(topic)?.partitions;
      if (n !== undefined) this.#topics.set(topic, n);
    }
    return n;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("sqlite event log: closed");
  }
}
