import { createLimiter, singleFlight } from "@chat4all/kernel";
import { type Delivery, presenceKey } from "@chat4all/pipeline";
import type { GatewayDeps } from "../deps.ts";
import type { createMessageService } from "../modules/messages/service.ts";
import { errorFrame } from "./frames.ts";
import { type Registry, type Ws, topic } from "./registry.ts";
import { replayConversation } from "./replay.ts";

/** At most this many members' presence is reported after a RESUME. */
const PRESENCE_SNAPSHOT_MAX = 500;
/** History reads of replays in flight at once on one instance (the rest wait their turn). */
const REPLAY_READS_MAX = 256;

/**
 * RESUME for one gateway instance: replays each asked conversation from the MessageStore, merges
 * the live frames that arrive meanwhile (`live`), hands the socket back to native delivery without
 * a gap or a repeat, and reports who is online. Sockets resuming a conversation from the same seq
 * share its history read; reads are bounded per instance.
 */
export function createResumer(p: {
  deps: GatewayDeps;
  messages: ReturnType<typeof createMessageService>;
  registry: Registry;
  send: (ws: Ws, frame: string) => void;
}) {
  const { deps, messages, registry, send } = p;
  const log = deps.log;
  const replayLimit = createLimiter(REPLAY_READS_MAX);
  // Sockets resuming one conversation from one position share its history read (a reconnect storm
  // brings every device of every member back at once, mostly from the same seq).
  const historyPage = singleFlight(
    (conversationId: string, after: number, limit: number) => `${conversationId}\n${after}\n${limit}`,
    (conversationId: string, after: number, limit: number) =>
      replayLimit(() => deps.messages.listMessages(conversationId, { afterSeq: after, limit, order: "asc" })),
  );
  // Presence of users with no socket here, asked by many RESUMEs at once: one Ephemeral read each.
  const isOnlineElsewhere = singleFlight(
    (userId: string) => userId,
    (userId: string) => deps.ephemeral.members(presenceKey(userId)).then((m) => m.length > 0, () => false),
  );

  /** Handles a RESUME: replays every conversation asked (the caller's only) after its position, then RESUMED. */
  async function resume(ws: Ws, positions: Record<string, number>) {
    const conn = ws.data;
    const wanted: [string, number][] = [];
    for (const [conversationId, asked] of Object.entries(positions)) {
      if (conn.resuming?.has(conversationId)) continue; // a replay of it is already running
      const position = Math.max(asked, conn.replayedUpTo?.get(conversationId) ?? 0);
      if (!(await deps.members.roleOf(conversationId, conn.userId))) {
        send(ws, errorFrame("NOT_A_MEMBER", `not a member of ${conversationId}`));
        continue;
      }
      conn.resuming ??= new Map();
      conn.resuming.set(conversationId, []);
      ws.unsubscribe(topic(conversationId));
      registry.join(ws, conversationId);
      wanted.push([conversationId, position]);
    }
    // Conversations replay side by side (each in its own seq order; the instance-wide read limiter
    // keeps the store's load bounded): a device with many conversations catches up in one round.
    await Promise.all(wanted.map(([conversationId, position]) => replayOne(ws, conversationId, position)));
    if (ws.readyState === 1 && wanted.length > 0) await presenceSnapshot(ws, wanted.map(([c]) => c));
  }

  /** Replays one conversation to a socket that RESUMEd it; a failure leaves it live and answers RESUME_FAILED. */
  async function replayOne(ws: Ws, conversationId: string, position: number) {
    const conn = ws.data;
    if (ws.readyState !== 1) return;
    try {
      await replayConversation({
        conversationId,
        from: position,
        userId: conn.userId,
        // Bounded across the instance: a reconnect storm queues here instead of overrunning the store.
        load: (after, limit) => historyPage(conversationId, after, limit),
        render: (list) => messages.render(conversationId, conn.userId, list),
        takeBuffered: () => {
          const buf = conn.resuming?.get(conversationId) ?? [];
          conn.resuming?.set(conversationId, []);
          return buf;
        },
        send: (frame) => send(ws, frame),
        caughtUp: (last) => {
          (conn.replayedUpTo ??= new Map()).set(conversationId, last);
          // Tail the live stream only past what the store gave (a position ahead of the store goes live at once).
          endReplay(ws, conversationId, last > position ? last : undefined);
          if (ws.readyState === 1 && conn.convs.includes(conversationId))
            send(ws, JSON.stringify({ type: "RESUMED", conversation_id: conversationId, from_sequence: position, to_sequence: last }));
        },
      });
    } catch (err) {
      // The replay failed (the store is unreachable, …): back to live delivery, and the client may RESUME again.
      endReplay(ws, conversationId);
      log.warn("replay failed", { conversationId, err });
      if (ws.readyState === 1) send(ws, errorFrame("RESUME_FAILED", `replay of ${conversationId} failed; send RESUME again`, conversationId));
    }
  }

  /**
   * Ends a replay of a conversation on a socket. After a complete replay up to `last`, live frames
   * the store already gave it may still be on their way from fanout: the socket tails the live
   * stream (see `Conn.tailing`) until it passes `last`. After a failed replay it goes live at once.
   */
  function endReplay(ws: Ws, conversationId: string, last?: number) {
    const conn = ws.data;
    conn.resuming?.delete(conversationId);
    if (conn.resuming?.size === 0) conn.resuming = undefined;
    conn.tailing?.delete(conversationId);
    if (conn.tailing?.size === 0) conn.tailing = undefined;
    if (ws.readyState !== 1 || !conn.convs.includes(conversationId)) return;
    if (last === undefined) ws.subscribe(topic(conversationId));
    else (conn.tailing ??= new Map()).set(conversationId, last);
  }

  /** A live message for a socket tailing a conversation after its replay. */
  function deliverAfterReplay(ws: Ws, conversationId: string, d: Delivery) {
    const conn = ws.data;
    if (d.seq <= (conn.tailing?.get(conversationId) ?? 0)) return; // the replay sent it already
    conn.tailing?.delete(conversationId);
    if (conn.tailing?.size === 0) conn.tailing = undefined;
    send(ws, d.frame);
    // Live frames of a conversation arrive in seq order: every later one is newer, so native
    // delivery takes over (this frame was published before the subscription: no repeat).
    if (ws.readyState === 1 && conn.convs.includes(conversationId)) ws.subscribe(topic(conversationId));
  }

  /** After a RESUME: who among the members of those conversations is online now (bounded). */
  async function presenceSnapshot(ws: Ws, conversationIds: string[]) {
    const others = new Set<string>();
    for (const c of conversationIds) {
      for (const m of await deps.members.members(c)) if (m.userId !== ws.data.userId) others.add(m.userId);
      if (others.size >= PRESENCE_SNAPSHOT_MAX) break;
    }
    const ids = [...others].slice(0, PRESENCE_SNAPSHOT_MAX);
    const online = await Promise.all(ids.map((id) => (registry.userSockets(id)?.size ? true : isOnlineElsewhere(id))));
    ids.forEach((id, i) => {
      if (online[i] && ws.readyState === 1) send(ws, JSON.stringify({ type: "PRESENCE", user_id: id, online: true }));
    });
  }

  /** A live message for a socket replaying or tailing `conversationId` (others get native delivery). */
  function live(ws: Ws, conversationId: string, d: Delivery) {
    const buffer = ws.data.resuming?.get(conversationId);
    if (buffer) buffer.push(d);
    else if (ws.data.tailing?.has(conversationId)) deliverAfterReplay(ws, conversationId, d);
  }

  return { resume, live };
}
