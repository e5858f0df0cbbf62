import { subjects } from "@chat4all/bus";
import { type DomainError, isDomainError, singleFlight } from "@chat4all/kernel";
import { type Delivery, decodeDelivery, decodeMembershipChange, encodeDelivery, presenceKey } from "@chat4all/pipeline";
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import * as v from "valibot";
import type { GatewayDeps } from "../deps.ts";
import { authenticate } from "../http/auth-guard.ts";
import type { createMessageService } from "../modules/messages/service.ts";
import { ClientFrame, errorFrame } from "./frames.ts";
import { type Ws, createRegistry, createVirtualSocket, topic } from "./registry.ts";
import { createResumer } from "./resume.ts";

/** Per-socket state; kept small (tens of thousands of sockets per instance). */
export interface Conn {
  id: number;
  userId: string;
  /**
   * Set when the upgrade could not be completed: the socket is closed on open, with 1008 when the
   * token was refused and 1013 (try again later) when a dependency failed.
   */
  authError?: string;
  /** Conversations whose live messages this socket receives. */
  convs: string[];
  /** Conversations being replayed: live messages wait here until the replay caught up. */
  resuming?: Map<string, Delivery[]>;
  /** Has sent a frame: receives PRESENCE and TYPING too (silent legacy clients only get deliveries). */
  interactive: boolean;
  badFrames: number;
  lastTypingAt: number;
  /**
   * Conversations whose replay is done but whose live stream has not yet passed the last seq the
   * replay sent (the store runs ahead of fanout): their live frames go out one by one, those at or
   * below that seq dropped, until the first newer one switches the socket back to native delivery.
   */
  tailing?: Map<string, number>;
  /** Highest seq a completed replay sent, per conversation: a repeated RESUME never re-sends it. */
  replayedUpTo?: Map<string, number>;
  /** Frames are handled one after another, in arrival order: replies keep the order of requests. */
  queue?: Promise<void>;
}

const PRESENCE_TTL_MS = 60_000;
const MAX_BAD_FRAMES = 10;
const TYPING_MIN_INTERVAL_MS = 1_000;
/** Bytes queued for one socket beyond which it is a slow consumer (Bun drops past BACKPRESSURE_LIMIT). */
const SLOW_CONSUMER_BYTES = 1024 * 1024;
const BACKPRESSURE_LIMIT = 2 * 1024 * 1024;

/** Close codes of the protocol (docs/websocket-protocol.md). */
export const CloseCodes = { policy: 1008, tooBig: 1009, restart: 1012, tryAgainLater: 1013, slowConsumer: 4008 } as const;
/** `Conn.authError` of an upgrade that failed on a dependency rather than on the token. */
const UNAVAILABLE = "UNAVAILABLE";

/**
 * The WebSocket hub of one gateway instance: authenticates upgrades, subscribes the Bus subjects of
 * its users and their conversations (refcounted), delivers live frames (Bun's native topic publish
 * for messages), replays history on RESUME without gaps or duplicates, and handles client frames.
 */
export function createHub(deps: GatewayDeps, messages: ReturnType<typeof createMessageService>) {
  const { bus, log } = deps;
  const instance = deps.settings.instanceId;
  let server: Server<Conn> | undefined;
  // Devices of one user connecting together share the conversation list (one RPC, not one per socket).
  const conversationsOf = singleFlight((userId: string) => userId, (userId: string) => deps.metadata.listConversations(userId));
  const framesIn = deps.metrics?.counter("ws_frames_in_total", "Client frames by type.");
  const liveMessages = deps.metrics?.counter("live_messages_total", "Live message frames handed to local sockets (per conversation, once per instance).");
  let nextId = 1;
  let accepting = true;
  const registry = createRegistry(bus, { conversation: onConversationDelivery, user: onUserDelivery });
  const send = (ws: Ws, frame: string) => {
    // -1: queued under backpressure; 0: dropped (over the limit, or closing). A dropped frame means
    // the client is too slow: close it with SLOW_CONSUMER so it reconnects and RESUMEs the gap.
    if (ws.send(frame) === 0 && ws.readyState === 1) closeSlow(ws);
  };
  const resumer = createResumer({ deps, messages, registry, send });
  const slowClosed = deps.metrics?.counter("ws_slow_consumers_total", "Sockets closed because they could not keep up.");
  function closeSlow(ws: Ws) {
    slowClosed?.();
    ws.close(CloseCodes.slowConsumer, "slow consumer: reconnect and RESUME");
  }
  // Native publishes to a socket over the limit are dropped without a return value per socket:
  // sweep the send queues and close the sockets that fell behind.
  const slowTimer = setInterval(() => {
    for (const conns of registry.allUserSockets())
      for (const ws of conns) {
        const buffered = (ws as Partial<ServerWebSocket<Conn>>).getBufferedAmount?.() ?? 0;
        if (buffered > SLOW_CONSUMER_BYTES && ws.readyState === 1) closeSlow(ws);
      }
  }, 500);
  slowTimer.unref?.();

  function onConversationDelivery(conversationId: string, data: Uint8Array) {
    const d = decodeDelivery(data);
    if (!d) return;
    const conns = registry.conversationSockets(conversationId);
    if (!conns) return;
    if (d.kind === "m") {
      liveMessages?.();
      server?.publish(topic(conversationId), d.frame);
      for (const vs of registry.virtualSubscribers(topic(conversationId)) ?? []) send(vs, d.frame);
      for (const ws of conns) if (ws.data.resuming || ws.data.tailing) resumer.live(ws, conversationId, d);
      return;
    }
    for (const ws of conns) if (ws.data.interactive && ws.data.userId !== d.from) send(ws, d.frame);
  }

  function onUserDelivery(userId: string, data: Uint8Array) {
    const d = decodeDelivery(data);
    if (!d) return;
    for (const ws of registry.userSockets(userId) ?? []) send(ws, d.frame);
  }

  // Membership changes from any instance: (un)subscribe the affected user's local sockets at once.
  const membershipSub = bus.subscribe(subjects.membershipChanged, (data) => {
    const c = decodeMembershipChange(data);
    if (!c) return;
    deps.members.invalidate(c.conversationId);
    for (const ws of registry.userSockets(c.userId) ?? []) {
      if (c.change === "added") registry.join(ws, c.conversationId);
      else registry.leave(ws, c.conversationId);
    }
  });

  async function announcePresence(userId: string, online: boolean, conversationIds: Iterable<string>) {
    if (online) await deps.ephemeral.memberAdd(presenceKey(userId), instance, PRESENCE_TTL_MS);
    else await deps.ephemeral.memberRemove(presenceKey(userId), instance);
    const frame = JSON.stringify({ type: "PRESENCE", user_id: userId, online });
    for (const c of conversationIds)
      bus.publish(subjects.conversation(c), encodeDelivery({ kind: "e", conversationId: c, seq: 0, frame, from: userId }));
  }

  let sockets = 0;
  deps.metrics?.gauge("ws_connections", "Open WebSocket connections (and Connect streams).", () => sockets);
  deps.metrics?.gauge("ws_users", "Users with at least one connection on this instance.", () => registry.stats().users);
  deps.metrics?.gauge("bus_conversation_subscriptions", "Conversations this instance is subscribed to.", () => registry.stats().conversations);

  const presenceTimer = setInterval(() => {
    for (const userId of registry.users())
      deps.ephemeral.memberAdd(presenceKey(userId), instance, PRESENCE_TTL_MS).catch((err) => log.warn("presence refresh failed", { err }));
  }, PRESENCE_TTL_MS / 3);
  presenceTimer.unref?.();

  async function handleFrame(ws: Ws, f: ClientFrame) {
    const userId = ws.data.userId;
    switch (f.type) {
      case "PING":
        return send(ws, JSON.stringify({ type: "PONG", timestamp: new Date().toISOString() }));
      case "ACK":
      case "READ":
        await messages.markStatus(userId, {
          conversation_id: f.conversation_id,
          sequence_number: f.sequence_number,
          status: f.type === "ACK" ? "DELIVERED" : "READ",
        });
        return;
      case "TYPING": {
        const now = Date.now();
        if (now - ws.data.lastTypingAt < TYPING_MIN_INTERVAL_MS) return;
        ws.data.lastTypingAt = now;
        if (!(await deps.members.roleOf(f.conversation_id, userId))) return send(ws, errorFrame("NOT_A_MEMBER", "not a member of this conversation"));
        const frame = JSON.stringify({ type: "TYPING", conversation_id: f.conversation_id, user_id: userId });
        bus.publish(subjects.conversation(f.conversation_id), encodeDelivery({ kind: "e", conversationId: f.conversation_id, seq: 0, frame, from: userId }));
        return;
      }
      case "SEND": {
        const { type: _type, ...body } = f;
        const r = await messages.send(userId, body);
        return send(ws, JSON.stringify({ type: "SENT", ...r }));
      }
      case "RESUME":
        return resumer.resume(ws, f.positions);
    }
  }

  const websocket: WebSocketHandler<Conn> = {
    maxPayloadLength: deps.settings.maxFrameBytes,
    idleTimeout: 120,
    sendPings: true,
    backpressureLimit: BACKPRESSURE_LIMIT,
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
    open(ws) {
      if (ws.data.authError || !accepting) {
        const { authError } = ws.data;
        const [code, reason] = !authError
          ? [CloseCodes.restart, "server restarting"]
          : authError === UNAVAILABLE
            ? [CloseCodes.tryAgainLater, "service unavailable, reconnect"]
            : [CloseCodes.policy, authError];
        ws.data.authError ??= "RESTARTING"; // never registered: `close` skips the bookkeeping
        ws.close(code, reason);
        return;
      }
      sockets++;
      const { userId } = ws.data;
      const conns = registry.ensureUser(userId);
      const first = conns.size === 0;
      conns.add(ws);
      const preloaded = ws.data.convs;
      ws.data.convs = [];
      for (const c of preloaded) registry.join(ws, c);
      if (first) announcePresence(userId, true, preloaded).catch((err) => log.warn("presence failed", { err }));
    },
    async message(ws, raw) {
      if (typeof raw !== "string") return send(ws, errorFrame("BINARY_NOT_SUPPORTED", "frames are JSON text"));
      ws.data.interactive = true;
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return badFrame(ws, "MALFORMED_FRAME", "frame is not valid JSON");
      }
      const parsed = v.safeParse(ClientFrame, json);
      if (!parsed.success) {
        const issue = parsed.issues[0];
        const path = issue.path?.map((p) => String(p.key)).join(".");
        return badFrame(ws, "INVALID_FRAME", `${path ? `${path}: ` : ""}${issue.message}`);
      }
      const frame = parsed.output;
      framesIn?.({ type: frame.type });
      const run = () => handleFrame(ws, frame).catch((err) => frameFailed(ws, frame, err));
      const queued = (ws.data.queue ?? Promise.resolve()).then(run);
      ws.data.queue = queued;
      await queued;
      if (ws.data.queue === queued) ws.data.queue = undefined;
    },
    close(ws) {
      if (ws.data.authError) return;
      sockets--;
      const { userId } = ws.data;
      const convs = [...ws.data.convs];
      for (const c of convs) registry.leave(ws, c);
      if (registry.removeUserSocket(ws)) announcePresence(userId, false, convs).catch((err) => log.warn("presence failed", { err }));
    },
  };

  function frameFailed(ws: Ws, frame: ClientFrame, err: unknown) {
    if (isDomainError(err)) {
      const e = err as DomainError;
      return send(ws, errorFrame(e.code, e.message, "idempotency_key" in frame ? frame.idempotency_key : undefined));
    }
    log.error("frame failed", { type: frame.type, err });
    send(ws, errorFrame("INTERNAL", "internal error"));
  }

  function badFrame(ws: Ws, code: string, message: string) {
    send(ws, errorFrame(code, message));
    if (++ws.data.badFrames >= MAX_BAD_FRAMES) ws.close(CloseCodes.policy, "too many invalid frames");
  }

  return {
    websocket,
    /**
     * Opens a stream for an authenticated user (Connect `Subscribe`): live deliveries go to `sink`
     * as protocol frames (JSON text); `positions` replays what was missed, as RESUME does.
     */
    async openStream(userId: string, positions: Record<string, number>, sink: (frame: string) => void, onClose: () => void) {
      if (!accepting) throw new Error("gateway is draining");
      const data: Conn = { id: nextId++, userId, convs: [], interactive: true, badFrames: 0, lastTypingAt: 0 };
      registry.ensureUser(userId);
      for (const c of await conversationsOf(userId)) {
        registry.ensureConversation(c.id);
        data.convs.push(registry.canonicalConversation(c.id));
      }
      await bus.flush();
      const vs = createVirtualSocket(data, registry, sink, (closed) => {
        websocket.close?.(closed as ServerWebSocket<Conn>, 1000, "");
        onClose();
      });
      websocket.open?.(vs as ServerWebSocket<Conn>);
      if (Object.keys(positions).length > 0) await resumer.resume(vs, positions);
      return { close: () => vs.close() };
    },
    setServer(s: Server<Conn>) {
      server = s;
    },
    /**
     * Authenticates a `/ws?token=` request and upgrades it. The caller's conversations are loaded and
     * their Bus subjects subscribed before the upgrade, so nothing published after the socket opens is missed.
     */
    async upgrade(req: Request, s: Server<Conn>): Promise<Response | undefined> {
      const token = new URL(req.url).searchParams.get("token");
      const data: Conn = { id: nextId++, userId: "", convs: [], interactive: false, badFrames: 0, lastTypingAt: 0 };
      let userId: string | undefined;
      try {
        userId = (await authenticate(deps.signer, token ? `Bearer ${token}` : null)).userId;
      } catch (err) {
        data.authError = isDomainError(err) ? (err as DomainError).code : "UNAUTHENTICATED"; // closed with 1008
      }
      if (userId) {
        try {
          const convs = await conversationsOf(userId);
          // Subscribe ahead; `open` reuses these subscriptions. Ids are the registry's own strings (one copy per instance).
          registry.ensureUser(userId);
          data.userId = registry.canonicalUser(userId);
          for (const c of convs) {
            registry.ensureConversation(c.id);
            if (!data.convs.includes(c.id)) data.convs.push(registry.canonicalConversation(c.id));
          }
          await bus.flush();
        } catch (err) {
          data.authError = UNAVAILABLE; // a dependency failed: closed with 1013 so the client reconnects
          log.warn("websocket upgrade failed", { err });
        }
      }
      if (s.upgrade(req, { data })) return undefined;
      return new Response(JSON.stringify({ error: { code: "UPGRADE_REQUIRED", message: "expected a WebSocket upgrade" } }), {
        status: 426,
        headers: { "content-type": "application/json" },
      });
    },
    stats: () => registry.stats(),
    /** Stops accepting sockets and closes every open one with 1012 so clients reconnect elsewhere. */
    drain() {
      accepting = false;
      for (const conns of [...registry.allUserSockets()]) for (const ws of [...conns]) ws.close(CloseCodes.restart, "server restarting");
    },
    close() {
      clearInterval(presenceTimer);
      clearInterval(slowTimer);
      membershipSub.unsubscribe();
      registry.close();
    },
  };
}

/** The hub of a gateway instance. */
export type Hub = ReturnType<typeof createHub>;
