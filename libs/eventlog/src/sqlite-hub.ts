/**
 * In-process coordination for SQLite event logs that share one database file: append
 * notifications (no busy polling) and consumer-group membership (partition assignment and the
 * per-partition lock that keeps one member on a partition at a time).
 */

/** One consumer registered in a group. */
export interface HubMember {
  readonly id: number;
  readonly topics: ReadonlySet<string>;
}

/** A consumer group inside this process: its members (join order) and the partitions being handled. */
export interface HubGroup {
  members: HubMember[];
  /** `topic\0partition` keys with a batch in hand. */
  inflight: Set<string>;
}

interface Waiter {
  topics: ReadonlySet<string>;
  wake: () => void;
}

/** Shared state of every log instance on one database file in this process. */
export class SqliteHub {
  readonly groups = new Map<string, HubGroup>();
  #waiters = new Set<Waiter>();
  refs = 0;

  /** The group named `name`, created empty on first use. */
  group(name: string): HubGroup {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { members: [], inflight: new Set() }));
    return g;
  }

  /** Partitions of `topic` (of `count`) that `member` owns: the eligible members split them round-robin in join order. */
  assigned(group: HubGroup, member: HubMember, topic: string, count: number): number[] {
    const eligible = group.members.filter((m) => m.topics.has(topic));
    const idx = eligible.indexOf(member);
    const out: number[] = [];
    if (idx < 0) return out;
    for (let p = idx; p < count; p += eligible.length) out.push(p);
    return out;
  }

  /** Resolves on the next `notify` touching one of `topics`, after `ms`, or when `signal` aborts. */
  wait(topics: ReadonlySet<string>, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const waiter: Waiter = { topics, wake: done };
      const timer = setTimeout(done, ms);
      this.#waiters.add(waiter);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Wakes every waiter interested in one of `topics`. */
  notify(topics: Iterable<string>): void {
    const set = new Set(topics);
    for (const w of [...this.#waiters]) {
      for (const t of w.topics) {
        if (set.has(t)) {
          w.wake();
          break;
        }
      }
    }
  }
}

const hubs = new Map<string, SqliteHub>();

/** The hub for `key` (an absolute file path); `null` gives a private hub (":memory:"). */
export function acquireHub(key: string | null): SqliteHub {
  if (key === null) return Object.assign(new SqliteHub(), { refs: 1 });
  let hub = hubs.get(key);
  if (!hub) hubs.set(key, (hub = new SqliteHub()));
  hub.refs++;
  return hub;
}

/** Drops one reference; the hub is forgotten with its last one. */
export function releaseHub(key: string | null, hub: SqliteHub): void {
  if (--hub.refs <= 0 && key !== null && hubs.get(key) === hub) hubs.delete(key);
}
