// The WebSocket of docs/websocket-protocol.md: connects with the current token, sends RESUME with
// the last seen seq of every conversation on each (re)connect, reconnects with jittered backoff,
// refreshes the token on 1008, pings to notice dead links, and throttles TYPING.

const PING_EVERY_MS = 25_000;
const DEAD_AFTER_MS = 70_000;
const TYPING_EVERY_MS = 2_000;

/**
 * `getToken()` → a fresh access token; `refreshToken()` → rejects when the session is over;
 * `positions()` → `{conversation_id: last seen seq}`; `onOpen()` after RESUME went out; `onFrame(frame)`;
 * `onState(state, retryInMs?)` with state "connecting" | "online" | "waiting" | "offline" | "signed-out".
 */
export function createLive({ getToken, refreshToken, positions, onOpen, onFrame, onState }) {
  let ws = null;
  let stopped = true;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let lastFrameAt = 0;
  let openedAt = 0;
  const typingSentAt = new Map();

  function socketUrl(token) {
    const u = new URL("/ws", location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", token);
    return u.toString();
  }

  async function connect() {
    clearTimeout(retryTimer);
    if (stopped || ws) return;
    onState("connecting");
    let token;
    try {
      token = await getToken();
    } catch (err) {
      if (err?.status === 401) return signedOut();
      return retryLater();
    }
    if (stopped || ws) return;
    const sock = new WebSocket(socketUrl(token));
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      openedAt = lastFrameAt = Date.now();
      send({ type: "RESUME", positions: limit(positions()) });
      startPings(sock);
      onState("online");
      onOpen?.();
    };
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") onFrame(frame);
    };
    sock.onclose = async (e) => {
      if (ws !== sock) return;
      ws = null;
      clearInterval(pingTimer);
      if (stopped) return;
      if (openedAt && Date.now() - openedAt > 10_000) attempt = 0; // it was a good connection
      openedAt = 0;
      if (e.code === 1008) {
        // Bad or expired token: get a new one first; a refused refresh ends the session.
        try {
          await refreshToken();
        } catch (err) {
          if (err?.status >= 400 && err?.status < 500) return signedOut();
        }
      }
      retryLater(e.code === 1012 ? 250 : undefined);
    };
    sock.onerror = () => {}; // a close event always follows
  }

  function signedOut() {
    stopped = true;
    onState("signed-out");
  }

  function retryLater(minDelay) {
    if (stopped) return;
    const base = Math.min(30_000, 500 * 2 ** attempt);
    const delay = Math.max(minDelay ?? 0, Math.round(base * (0.5 + Math.random() * 0.5)));
    attempt = Math.min(attempt + 1, 10);
    onState(navigator.onLine === false ? "offline" : "waiting", delay);
    retryTimer = setTimeout(connect, delay);
  }

  function startPings(sock) {
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (Date.now() - lastFrameAt > DEAD_AFTER_MS) return sock.close(4000, "no answer to ping");
      send({ type: "PING" });
    }, PING_EVERY_MS);
  }

  /** The protocol accepts at most 1000 conversations per RESUME. */
  function limit(pos) {
    const entries = Object.entries(pos);
    return entries.length <= 1000 ? pos : Object.fromEntries(entries.slice(0, 1000));
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  const now = () => {
    if (!stopped && !ws) {
      attempt = 0;
      connect();
    }
  };
  addEventListener("online", now);

  return {
    start() {
      stopped = false;
      attempt = 0;
      connect();
    },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      const s = ws;
      ws = null;
      s?.close(1000, "bye");
      onState("offline");
    },
    /** Reconnects at once if a retry is pending (e.g. the tab became visible again). */
    reconnectNow: now,
    get connected() {
      return ws?.readyState === WebSocket.OPEN;
    },
    send,
    resume(pos) {
      return Object.keys(pos).length > 0 && send({ type: "RESUME", positions: limit(pos) });
    },
    /** Sends TYPING at most every 2 s per conversation. */
    typing(conversationId) {
      const t = Date.now();
      if (t - (typingSentAt.get(conversationId) ?? 0) < TYPING_EVERY_MS) return;
      if (send({ type: "TYPING", conversation_id: conversationId })) typingSentAt.set(conversationId, t);
    },
  };
}
