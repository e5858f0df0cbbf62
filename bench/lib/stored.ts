// How many messages are in history: the newest stored seq of a conversation (GET /v1/messages/{id}
// ?limit=1, newest first). A sample of conversations each second gives the stored rate (senders go
// round-robin over conversations, so every conversation gets the same share); a sweep over all of
// them before and after the run gives the exact count.
import type { Fixture } from "./fixture.ts";
import { api, mapLimit } from "./http.ts";

/** Probes of history over a fixture's conversations. */
export function createStoredProbe(gateways: string[], fixture: Fixture, sampleSize: number) {
  const K = fixture.conversations.length;
  const n = Math.min(sampleSize, K);
  const step = K / n;
  const sampled = Array.from({ length: n }, (_, i) => Math.floor(i * step));
  const newest = async (j: number): Promise<number> => {
    const c = fixture.conversations[j]!;
    const token = fixture.users[c.members[0]!]!.token;
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await api(gateways[j % gateways.length]!, "GET", `/v1/messages/${c.id}?limit=1`, { token, timeoutMs: 10_000 });
      if (r.status === 200) return Number(r.body?.[0]?.sequence_number ?? 0);
    }
    return Number.NaN;
  };
  return {
    /** Multiplier from the sample's sum to the whole fixture. */
    scale: K / n,
    /** Sum of the newest stored seq over the sampled conversations (NaN when a probe failed). */
    async sample(): Promise<number> {
      const seqs = await Promise.all(sampled.map(newest));
      return seqs.reduce((a, b) => a + b, 0);
    },
    /** Sum of the newest stored seq over every conversation. */
    async sweep(): Promise<{ total: number; failed: number }> {
      const seqs = await mapLimit(Array.from({ length: K }, (_, j) => j), 32, newest);
      const failed = seqs.filter((s) => !Number.isFinite(s)).length;
      return { total: seqs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0), failed };
    },
  };
}
