// A plain API.md client for tests: HTTP with fetch, WebSocket with the runtime's WebSocket.

/** A JSON HTTP call; returns status, parsed body and headers. */
export async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(opts.body);
  } else if (opts.raw !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

/** Registers a fresh user and logs in; returns its id and tokens. */
export async function newUser(base: string, prefix = "u") {
  const username = `${prefix}_${crypto.randomUUID().slice(0, 12)}`;
  const password = "correct-horse-battery";
  const reg = await call(base, "POST", "/auth/register", { body: { username, password, email: `${username}@example.test`, name: `User ${username}` } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const tok = await call(base, "POST", "/auth/token", { body: { username, password } });
  if (tok.status !== 200) throw new Error(`token failed: ${tok.status} ${JSON.stringify(tok.body)}`);
  return { id: reg.body.id as string, username, password, token: tok.body.access_token as string, refresh: tok.body.refresh_token as string };
}

/** A WebSocket with an awaitable frame queue. */
export async function openSocket(base: string, token: string) {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`);
  const frames: any[] = [];
  const waiters: (() => void)[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.onmessage = (e) => {
    frames.push(JSON.parse(String(e.data)));
    waiters.splice(0).forEach((w) => w());
  };
  ws.onclose = (e) => {
    closed = { code: e.code, reason: e.reason };
    waiters.splice(0).forEach((w) => w());
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => (closed ? resolve() : reject(new Error("websocket error")));
    setTimeout(() => resolve(), 5_000);
  });
  const api = {
    ws,
    frames,
    get closed() {
      return closed;
    },
    send: (frame: unknown) => ws.send(JSON.stringify(frame)),
    /** Waits for the first frame (at or after index `from`) that matches. */
    async next(match: (f: any) => boolean = () => true, timeoutMs = 5_000, from = 0): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = frames.slice(from).find(match);
        if (hit) return hit;
        if (closed) throw new Error(`socket closed (${closed.code} ${closed.reason}) before a matching frame; got ${JSON.stringify(frames)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 2000)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, left);
        });
      }
    },
    async waitClosed(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!closed && Date.now() < deadline) await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      return closed;
    },
    close: () => ws.close(),
  };
  return api;
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await Bun.sleep(everyMs);
  }
}
