import type { StoredMessage } from "@chat4all/kernel";
import type { Delivery, MessageItem } from "@chat4all/pipeline";

const PAGE = 200;

/**
 * Replays a conversation to one socket from `from` (exclusive) until it has caught up with both
 * the store and the live messages that arrived meanwhile (handed over by `takeBuffered`).
 * Frames go out in strictly increasing seq order: live frames at or below what was sent are
 * dropped, and a gap before a live frame is filled from the store first. When the buffer is found
 * empty, `caughtUp(last)` runs in that same synchronous step (so the caller can switch the socket to
 * live delivery with nothing slipping between), and the promise resolves with the last seq sent.
 */
export async function replayConversation(p: {
  conversationId: string;
  from: number;
  userId: string;
  load: (afterSeq: number, limit: number) => Promise<StoredMessage[]>;
  render: (list: StoredMessage[]) => Promise<MessageItem[]>;
  takeBuffered: () => Delivery[];
  send: (frame: string) => void;
  caughtUp: (last: number) => void;
}): Promise<number> {
  let last = p.from;
  const fillFromStore = async (upTo: number) => {
    for (;;) {
      const page = await p.load(last, PAGE);
      const wanted = page.filter((m) => m.seq > last && m.seq <= upTo);
      if (wanted.length > 0) {
        for (const item of await p.render(wanted)) {
          if (item.sequence_number <= last) continue;
          p.send(JSON.stringify({ type: "MESSAGE", ...item, target_channels: wanted.find((m) => m.seq === item.sequence_number)?.targetChannels ?? [] }));
          last = item.sequence_number;
        }
      }
      if (page.length < PAGE || wanted.length < page.length) return;
    }
  };
  await fillFromStore(Number.MAX_SAFE_INTEGER);
  for (;;) {
    const buffered = p.takeBuffered().sort((a, b) => a.seq - b.seq);
    if (buffered.length === 0) {
      p.caughtUp(last);
      return last;
    }
    for (const d of buffered) {
      if (d.seq <= last) continue;
      if (d.seq > last + 1) await fillFromStore(d.seq - 1);
      if (d.seq <= last) continue;
      p.send(d.frame);
      last = d.seq;
    }
  }
}
