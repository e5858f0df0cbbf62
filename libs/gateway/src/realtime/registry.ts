import { type Bus, type Subscription, subjects } from "@chat4all/bus";
import type { ServerWebSocket } from "bun";
import type { Conn } from "./hub.ts";

/** What the hub needs of a socket: a Bun WebSocket, or a virtual one behind a Connect stream. */
export type Ws = Pick<ServerWebSocket<Conn>, "data" | "send" | "subscribe" | "unsubscribe" | "readyState" | "close">;

/** Bun topic of a conversation's live messages. */
export const topic = (conversationId: string) => `c:${conversationId}`;

/**
 * The local socket index of one gateway instance and its Bus subscriptions: one subscription per
 * user with a socket here (`deliver.user.<id>`) and per conversation with a member's socket here
 * (`deliver.conv.<id>`), made on first use and dropped with the last socket. Subscriptions made
 * ahead of an upgrade whose socket never opened are dropped after two sweeps.
 */
export function createRegistry(
  bus: Bus,
  on: { conversation: (conversationId: string, data: Uint8Array) => void; user: (userId: string, data: Uint8Array) => void },
) {
  const userConns = new Map<string, Set<Ws>>();
  const userSubs = new Map<string, Subscription>();
  const convConns = new Map<string, Set<Ws>>();
  const convSubs = new Map<string, Subscription>();
  /** One string per id for the whole instance: sockets share it instead of holding their own copy. */
  const userIds = new Map<string, string>();
  const convIds = new Map<string, string>();
  /** Topic → virtual sockets subscribed to it (Bun's native publish reaches only real sockets). */
  const virtualByTopic = new Map<string, Set<Ws>>();

  const dropUser = (id: string) => {
    userConns.delete(id);
    userIds.delete(id);
    userSubs.get(id)?.unsubscribe();
    userSubs.delete(id);
  };
  const dropConversation = (id: string) => {
    convConns.delete(id);
    convIds.delete(id);
    convSubs.get(id)?.unsubscribe();
    convSubs.delete(id);
  };

  let idleBefore = new Set<string>();
  const sweepTimer = setInterval(() => {
    const idleNow = new Set<string>();
    for (const [id, conns] of userConns) if (conns.size === 0) idleNow.add(`u:${id}`);
    for (const [id, conns] of convConns) if (conns.size === 0) idleNow.add(`c:${id}`);
    for (const key of idleNow) if (idleBefore.has(key)) (key.startsWith("u:") ? dropUser : dropConversation)(key.slice(2));
    idleBefore = idleNow;
  }, 30_000);
  sweepTimer.unref?.();

  const registry = {
    /** The user's local sockets (subscribing `deliver.user.<id>` on first use). */
    ensureUser(userId: string): Set<Ws> {
      let conns = userConns.get(userId);
      if (!conns) {
        userConns.set(userId, (conns = new Set()));
        userIds.set(userId, userId);
        userSubs.set(userId, bus.subscribe(subjects.user(userId), (data) => on.user(userId, data)));
      }
      return conns;
    },
    /** The conversation's local sockets (subscribing `deliver.conv.<id>` on first use). */
    ensureConversation(conversationId: string): Set<Ws> {
      let conns = convConns.get(conversationId);
      if (!conns) {
        convConns.set(conversationId, (conns = new Set()));
        convIds.set(conversationId, conversationId);
        convSubs.set(conversationId, bus.subscribe(subjects.conversation(conversationId), (data) => on.conversation(conversationId, data)));
      }
      return conns;
    },
    canonicalUser: (userId: string) => userIds.get(userId) ?? userId,
    canonicalConversation: (conversationId: string) => convIds.get(conversationId) ?? conversationId,
    /** Adds a socket to a conversation (live delivery starts unless it is being replayed). */
    join(ws: Ws, conversationId: string) {
      if (ws.data.convs.includes(conversationId)) return;
      registry.ensureConversation(conversationId).add(ws);
      ws.data.convs.push(convIds.get(conversationId) ?? conversationId);
      if (!ws.data.resuming?.has(conversationId) && !ws.data.tailing?.has(conversationId)) ws.subscribe(topic(conversationId));
    },
    /** Removes a socket from a conversation at once. */
    leave(ws: Ws, conversationId: string) {
      const at = ws.data.convs.indexOf(conversationId);
      if (at < 0) return;
      ws.data.convs.splice(at, 1);
      ws.data.resuming?.delete(conversationId);
      if (ws.data.resuming?.size === 0) ws.data.resuming = undefined;
      ws.data.tailing?.delete(conversationId);
      if (ws.data.tailing?.size === 0) ws.data.tailing = undefined;
      try {
        ws.unsubscribe(topic(conversationId));
      } catch {
        // already closed
      }
      const conns = convConns.get(conversationId);
      conns?.delete(ws);
      if (conns?.size === 0) dropConversation(conversationId);
    },
    /** Removes a closed socket of a user; true when it was the user's last one here. */
    removeUserSocket(ws: Ws): boolean {
      const conns = userConns.get(ws.data.userId);
      conns?.delete(ws);
      if (conns?.size !== 0) return false;
      dropUser(ws.data.userId);
      return true;
    },
    userSockets: (userId: string) => userConns.get(userId),
    conversationSockets: (conversationId: string) => convConns.get(conversationId),
    virtualSubscribers: (t: string) => virtualByTopic.get(t),
    addVirtual(t: string, ws: Ws) {
      let set = virtualByTopic.get(t);
      if (!set) virtualByTopic.set(t, (set = new Set()));
      set.add(ws);
    },
    removeVirtual(t: string, ws: Ws) {
      const set = virtualByTopic.get(t);
      set?.delete(ws);
      if (set?.size === 0) virtualByTopic.delete(t);
    },
    users: () => userConns.keys(),
    allUserSockets: () => userConns.values(),
    stats: () => ({ users: userConns.size, conversations: convSubs.size }),
    close() {
      clearInterval(sweepTimer);
      for (const s of [...userSubs.values(), ...convSubs.values()]) s.unsubscribe();
    },
  };
  return registry;
}

/** The socket registry of a hub. */
export type Registry = ReturnType<typeof createRegistry>;

/** A socket-like sink for a Connect `Subscribe` stream: frames go to `sink`, topics are tracked in the registry. */
export function createVirtualSocket(data: Conn, registry: Registry, sink: (frame: string) => void, onClose: (vs: Ws) => void): Ws {
  const topics = new Set<string>();
  let state = 1;
  const vs = {
    data,
    get readyState() {
      return state as 1;
    },
    send(frame: string | BufferSource) {
      if (state === 1) sink(typeof frame === "string" ? frame : new TextDecoder().decode(frame));
      return 1;
    },
    subscribe(t: string) {
      topics.add(t);
      registry.addVirtual(t, vs);
    },
    unsubscribe(t: string) {
      topics.delete(t);
      registry.removeVirtual(t, vs);
    },
    close() {
      if (state !== 1) return;
      state = 3;
      for (const t of [...topics]) vs.unsubscribe(t);
      onClose(vs);
    },
  } as Ws;
  return vs;
}
