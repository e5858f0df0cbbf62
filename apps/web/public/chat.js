// Client state: conversations, messages (deduplicated by message_id, ordered by sequence_number),
// the last contiguous seq seen per conversation (gap detection → RESUME), receipts (ACK/READ out,
// STATUS_UPDATE in), typing and presence.

const RANK = { SENT: 1, DELIVERED: 2, READ: 3 };
const TYPING_SHOWN_MS = 5_000;

/** `deps`: `meId`, `api` (api.js), `live` (live.js), `isVisible(conversationId)`, `onChange()`. */
export function createChat(deps) {
  const { meId, api } = deps;
  const convs = new Map();
  const people = new Map();
  const presence = new Map();
  const ackTimers = new Map();
  let changeQueued = false;

  function changed() {
    if (changeQueued) return;
    changeQueued = true;
    queueMicrotask(() => {
      changeQueued = false;
      deps.onChange();
    });
  }

  function conv(id, seen = 0) {
    let c = convs.get(id);
    if (!c) {
      c = {
        id,
        type: null,
        metadata: {},
        members: null,
        createdAt: null,
        listed: false,
        lastSeq: 0,
        readMark: 0, // read up to (our estimate of the server's marker)
        seen, // every message up to here is known or was deliberately not fetched
        messages: new Map(),
        bySeq: new Map(),
        oldest: Number.POSITIVE_INFINITY,
        historyLoaded: false,
        loadingOlder: false,
        marks: new Map(), // other members' {delivered, read} up to
        ackWanted: 0, // highest seq received from another member
        ackSent: 0,
        readSent: 0,
        typing: new Map(),
        resuming: false,
        gapRetries: 0,
      };
      convs.set(id, c);
    }
    return c;
  }

  /** Adds or merges one message; returns it. Never creates a second entry for a message_id. */
  function put(raw) {
    const c = conv(raw.conversation_id);
    const seq = Number(raw.sequence_number) || 0;
    let m = c.messages.get(raw.message_id);
    if (!m) {
      m = { ...raw, sequence_number: seq || undefined };
      c.messages.set(raw.message_id, m);
    } else {
      if (seq && !m.sequence_number) m.sequence_number = seq;
      if ((RANK[raw.status] ?? 0) > (RANK[m.status] ?? 0)) m.status = raw.status;
      if (raw.created_at && m.pending !== undefined) m.created_at = raw.created_at;
      m.pending = false;
      m.failed = false;
    }
    if (seq) {
      c.bySeq.set(seq, raw.message_id);
      c.lastSeq = Math.max(c.lastSeq, seq);
      c.oldest = Math.min(c.oldest, seq);
    }
    if (raw.sender_id !== meId) {
      c.typing.delete(raw.sender_id);
      if (seq) c.ackWanted = Math.max(c.ackWanted, seq);
    }
    return m;
  }

  function advance(c) {
    while (c.bySeq.has(c.seen + 1)) c.seen++;
  }

  /** Asks the server for everything after the last contiguous seq (once at a time per conversation). */
  function fillGap(c) {
    if (c.resuming) return;
    if (deps.live.resume({ [c.id]: c.seen })) c.resuming = true;
  }

  function hasGap(c) {
    return c.lastSeq > c.seen && [...c.bySeq.keys()].some((s) => s > c.seen + 1);
  }

  function scheduleAck(c) {
    if (ackTimers.has(c.id)) return;
    ackTimers.set(
      c.id,
      setTimeout(() => {
        ackTimers.delete(c.id);
        const upTo = Math.min(c.ackWanted, c.seen);
        if (upTo > c.ackSent && deps.live.send({ type: "ACK", conversation_id: c.id, sequence_number: upTo })) c.ackSent = upTo;
      }, 150),
    );
  }

  /** READ up to the last contiguous seq when the conversation is on screen. */
  function markRead(c) {
    if (!deps.isVisible(c.id)) return;
    const upTo = c.seen;
    if (upTo <= 0 || upTo <= c.readSent) return;
    c.readSent = upTo;
    c.readMark = Math.max(c.readMark, upTo);
    if (!deps.live.send({ type: "READ", conversation_id: c.id, sequence_number: upTo })) {
      const messageId = c.bySeq.get(upTo);
      if (messageId)
        api.call("PATCH", "/v1/messages/status", { body: { conversation_id: c.id, message_id: messageId, sequence_number: upTo, status: "READ" } }).catch(() => {
          c.readSent = Math.min(c.readSent, upTo - 1);
        });
    }
    changed();
  }

  function onMessage(f) {
    const known = convs.has(f.conversation_id);
    const c = conv(f.conversation_id);
    put(f);
    const seq = Number(f.sequence_number) || 0;
    if (seq > c.seen + 1) {
      if (!c.resuming) fillGap(c);
    } else advance(c);
    if (f.sender_id !== meId) scheduleAck(c);
    else if (c.readMark === seq - 1) c.readMark = seq; // our own message is not unread
    markRead(c);
    if (!known || !c.listed) deps.onUnknownConversation?.(c.id);
    changed();
  }

  function onStatus(f) {
    const c = convs.get(f.conversation_id);
    if (!c || !f.read_by) return;
    const mark = c.marks.get(f.read_by) ?? { delivered: 0, read: 0 };
    const seq = Number(f.sequence_number) || 0;
    mark.delivered = Math.max(mark.delivered, seq);
    if (f.status === "READ") mark.read = Math.max(mark.read, seq);
    c.marks.set(f.read_by, mark);
    changed();
  }

  function onResumed(f) {
    const c = convs.get(f.conversation_id);
    if (!c) return;
    c.resuming = false;
    advance(c);
    scheduleAck(c);
    if (hasGap(c) && c.gapRetries++ < 3) fillGap(c);
    else c.gapRetries = 0;
    markRead(c);
    changed();
  }

  return {
    convs,
    people,
    presence,
    conv,

    /** Applies GET /v1/conversations; new conversations start "seen" at their last seq (nothing to replay). */
    applyList(items) {
      const ids = new Set();
      const fresh = {};
      for (const it of items) {
        ids.add(it.conversation_id);
        const isNew = !convs.has(it.conversation_id);
        const c = conv(it.conversation_id, it.last_sequence_number);
        if (isNew) fresh[c.id] = c.seen;
        c.listed = true;
        c.type = it.type;
        c.metadata = it.metadata ?? {};
        c.createdAt = it.created_at ?? c.createdAt;
        c.lastSeq = Math.max(c.lastSeq, it.last_sequence_number);
        c.readMark = Math.max(c.readMark, it.last_sequence_number - it.unread_count);
        c.readSent = Math.max(c.readSent, c.readMark);
        for (const [uid, name] of Object.entries(c.metadata.member_names ?? {}))
          if (!people.has(uid) && typeof name === "string") people.set(uid, { name, username: "" });
      }
      for (const [id, c] of convs) if (!ids.has(id) && c.listed) convs.delete(id); // we left it
      // Conversations that appeared since the socket connected: make sure it delivers them.
      if (Object.keys(fresh).length > 0) deps.live.resume(fresh);
      changed();
    },

    /** GET /v1/conversations/{id}: the member list (for titles, presence and group receipts). */
    async loadDetails(c) {
      const d = await api.call("GET", `/v1/conversations/${encodeURIComponent(c.id)}`);
      c.members = d.members.map((m) => m.user_id);
      changed();
    },

    /** The latest page of history, or the page before the oldest loaded message. */
    async loadHistory(c, { older = false, limit = 50 } = {}) {
      const q = new URLSearchParams({ limit: String(limit) });
      if (older) {
        if (!Number.isFinite(c.oldest) || c.oldest <= 1) return;
        q.set("before_sequence", String(c.oldest));
      }
      const list = await api.call("GET", `/v1/messages/${encodeURIComponent(c.id)}?${q}`);
      for (const m of list) put(m);
      if (!older && list.length > 0) {
        c.seen = Math.max(c.seen, list[0].sequence_number);
        advance(c);
      }
      if (limit > 1) c.historyLoaded = true;
      scheduleAck(c);
      markRead(c);
      changed();
      return list.length;
    },

    hasOlder: (c) => c.historyLoaded && Number.isFinite(c.oldest) && c.oldest > 1,

    /** Positions for RESUME: the last contiguous seq of every conversation. */
    positions() {
      const out = {};
      for (const c of convs.values()) {
        out[c.id] = c.seen;
        c.resuming = false; // a new socket: earlier replays are void
      }
      return out;
    },

    onFrame(f) {
      switch (f.type) {
        case "MESSAGE":
          return onMessage(f);
        case "STATUS_UPDATE":
          return onStatus(f);
        case "RESUMED":
          return onResumed(f);
        case "TYPING": {
          const c = convs.get(f.conversation_id);
          if (!c || f.user_id === meId) return;
          c.typing.set(f.user_id, Date.now() + TYPING_SHOWN_MS);
          presence.set(f.user_id, true);
          setTimeout(changed, TYPING_SHOWN_MS + 50);
          return changed();
        }
        case "PRESENCE":
          presence.set(f.user_id, Boolean(f.online));
          return changed();
      }
    },

    /** The socket is back: frames sent just before a drop may be lost, so ACK and READ again. */
    onReconnected() {
      for (const c of convs.values()) {
        if (c.ackWanted > 0) {
          c.ackSent = 0;
          scheduleAck(c);
        }
        if (deps.isVisible(c.id)) {
          c.readSent = 0;
          markRead(c);
        }
      }
    },

    markRead,

    /** Sends a text message: shown at once, POSTed with a fresh idempotency key (retried with the same key). */
    sendText(c, content) {
      const id = crypto.randomUUID();
      const m = { message_id: id, conversation_id: c.id, sender_id: meId, content, message_type: "text", created_at: new Date().toISOString(), status: "", pending: true, attachments: null };
      c.messages.set(id, m);
      changed();
      return this.deliver(m);
    },

    /** (Re)sends a pending or failed message under its original key: the server keeps one copy. */
    async deliver(m) {
      m.pending = true;
      m.failed = false;
      changed();
      try {
        await api.sendMessage({ idempotency_key: m.message_id, conversation_id: m.conversation_id, message_type: m.message_type, content: m.content });
        m.accepted = true;
      } catch (err) {
        m.failed = true;
        m.error = err?.status ? err.message : "the server could not be reached";
      } finally {
        m.pending = false;
        changed();
      }
    },

    /** SENT / DELIVERED / READ of our own message, from its history status and the members' receipts. */
    statusOf(c, m) {
      if (m.failed) return "FAILED";
      if (!m.sequence_number) return m.accepted ? "SENT" : "PENDING";
      let rank = RANK[m.status] ?? 1;
      const others = (c.members ?? [...c.marks.keys()]).filter((u) => u !== meId);
      if (others.length > 0) {
        const ranks = others.map((u) => {
          const k = c.marks.get(u);
          return !k ? 1 : k.read >= m.sequence_number ? 3 : k.delivered >= m.sequence_number ? 2 : 1;
        });
        rank = Math.max(rank, Math.min(...ranks));
      }
      return rank === 3 ? "READ" : rank === 2 ? "DELIVERED" : "SENT";
    },

    /** Messages in display order: by seq, then not-yet-sequenced ones by time. */
    ordered(c) {
      return [...c.messages.values()].sort((a, b) => {
        if (a.sequence_number && b.sequence_number) return a.sequence_number - b.sequence_number;
        if (a.sequence_number) return -1;
        if (b.sequence_number) return 1;
        return a.created_at.localeCompare(b.created_at);
      });
    },

    last(c) {
      const seq = c.lastSeq;
      const id = c.bySeq.get(seq);
      const pending = [...c.messages.values()].filter((m) => !m.sequence_number);
      return pending.at(-1) ?? (id ? c.messages.get(id) : undefined);
    },

    unread: (c) => Math.max(0, c.lastSeq - c.readMark),

    typers(c) {
      const t = Date.now();
      return [...c.typing].filter(([, until]) => until > t).map(([u]) => u);
    },
  };
}
