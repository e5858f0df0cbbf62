import type { EventLog } from "@chat4all/eventlog";
import { type Logger, type Service, sleep } from "@chat4all/kernel";
import type { ClaimedRecord, Outbox } from "@chat4all/metadata";

/** How the relay paces itself. */
export interface OutboxRelaySettings {
  /** Pause when the outbox is empty (default 200 ms). */
  idleMs?: number;
  /** Records per round (default 200). */
  batch?: number;
  /** How long a claimed round is ours before another relay may take it (default 30 s). */
  leaseMs?: number;
}

/**
 * Moves the metadata outbox to the event log: claims records, appends them per topic in outbox
 * order, then acknowledges them. At least once: a failed append leaves them leased and they are
 * claimed again after the lease (consumers of these topics are idempotent by key). Safe to run in
 * several metadata processes at once. `relayOnce()` runs one round and returns how many it moved.
 */
export function createOutboxRelay(
  deps: { outbox: Outbox; events: EventLog; log: Logger },
  settings: OutboxRelaySettings = {},
): Service & { relayOnce(): Promise<number> } {
  const idleMs = settings.idleMs ?? 200;
  const batch = settings.batch ?? 200;
  const leaseMs = settings.leaseMs ?? 30_000;

  async function relayOnce(): Promise<number> {
    const claimed = await deps.outbox.claim(batch, leaseMs);
    if (claimed.length === 0) return 0;
    const byTopic = new Map<string, ClaimedRecord[]>();
    for (const r of claimed) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push(r);
    }
    for (const [topic, records] of byTopic) {
      await deps.events.append(topic, records.map((r) => ({ key: r.key, value: r.value })));
      await deps.outbox.ack(records.map((r) => r.id));
    }
    return claimed.length;
  }

  return {
    name: "outbox-relay",
    relayOnce,
    async run(signal) {
      let failures = 0;
      while (!signal.aborted) {
        try {
          const moved = await relayOnce();
          failures = 0;
          if (moved < batch) await sleep(idleMs, signal);
        } catch (err) {
          failures++;
          deps.log.warn("outbox relay failed; retrying", { attempt: failures, err });
          await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)), signal);
        }
      }
    },
  };
}
