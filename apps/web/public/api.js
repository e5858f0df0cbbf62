// REST client of API.md: the session (tokens in sessionStorage, refreshed before expiry), JSON
// requests with one transparent refresh on 401, and message sends retried with the same key.

const STORAGE_KEY = "chat4all.session";

/** An API error: HTTP status plus the `{error: {code, message}}` body. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfterSec) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterSec = retryAfterSec;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Claims of a JWT (unverified: only to learn our own id and name). */
function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}

/** The API client; `onSignedOut` runs when the session ends (logout, or a refresh the server refused). */
export function createApi({ onSignedOut } = {}) {
  let session = restore();
  let refreshing = null;
  let timer = null;

  function restore() {
    try {
      const s = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
      return s && typeof s.access_token === "string" && typeof s.refresh_token === "string" ? s : null;
    } catch {
      return null;
    }
  }

  function save(tokens) {
    const claims = claimsOf(tokens.access_token);
    // Timed by our own clock (expires_in), so a skewed client clock does not matter.
    const ttlMs = Math.max(10, Number(tokens.expires_in) || 900) * 1000;
    session = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: Date.now() + ttlMs,
      ttl_ms: ttlMs,
      user_id: claims.sub,
      username: claims.username,
    };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    schedule();
  }

  function end() {
    const had = session !== null;
    session = null;
    clearTimeout(timer);
    sessionStorage.removeItem(STORAGE_KEY);
    if (had) onSignedOut?.();
  }

  /** Refreshes at ~80% of the token's life (at least 5 s before expiry); retries soon on network errors. */
  function schedule(delayOverride) {
    clearTimeout(timer);
    if (!session) return;
    const margin = Math.max(5_000, Math.min(60_000, session.ttl_ms * 0.2));
    const delay = delayOverride ?? Math.max(0, session.expires_at - Date.now() - margin);
    timer = setTimeout(() => refresh().catch(() => {}), delay);
  }

  /** One refresh at a time: refresh tokens rotate, so a second concurrent use would end the session. */
  function refresh() {
    if (!session) return Promise.reject(new ApiError(401, "SIGNED_OUT", "not signed in"));
    refreshing ??= (async () => {
      try {
        const tokens = await call("POST", "/auth/refresh", { body: { refresh_token: session.refresh_token }, auth: false });
        save(tokens);
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) end();
        else schedule(5_000);
        throw err;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async function accessToken() {
    if (refreshing) await refreshing;
    if (!session) throw new ApiError(401, "SIGNED_OUT", "not signed in");
    if (session.expires_at - Date.now() < 10_000) await refresh();
    return session.access_token;
  }

  /** One JSON request. Network failures reject with a TypeError; HTTP errors with ApiError. */
  async function call(method, path, { body, auth = true, retried = false } = {}) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (auth) headers.authorization = `Bearer ${await accessToken()}`;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    if (res.status === 401 && auth && !retried && session) {
      await refresh();
      return call(method, path, { body, auth, retried: true });
    }
    const text = await res.text();
    let data;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const retryAfter = Number(res.headers.get("retry-after")) || undefined;
      throw new ApiError(res.status, data?.error?.code ?? `HTTP_${res.status}`, data?.error?.message ?? res.statusText, retryAfter);
    }
    return data;
  }

  return {
    get session() {
      return session;
    },
    accessToken,
    refresh,
    call,

    async register({ username, password, email, name }) {
      await call("POST", "/auth/register", { body: { username, password, email, name }, auth: false });
      return this.login(username, password);
    },

    async login(username, password) {
      save(await call("POST", "/auth/token", { body: { username, password }, auth: false }));
      return session;
    },

    logout: end,

    /** Resumes a stored session (refreshing it when it expired meanwhile); false when there is none. */
    async resume() {
      if (!session) return false;
      if (session.expires_at - Date.now() < 10_000) await refresh();
      else schedule();
      return session !== null;
    },

    /**
     * POST /v1/messages, retried with the SAME body (so the same idempotency_key) on network errors,
     * 5xx and 429; other 4xx answers are final. The server creates at most one message per key.
     */
    async sendMessage(body, { attempts = 6 } = {}) {
      for (let i = 0; ; i++) {
        try {
          return await call("POST", "/v1/messages", { body });
        } catch (err) {
          const transient = !(err instanceof ApiError) || err.status >= 500 || err.status === 429 || err.status === 408;
          if (!transient || i >= attempts - 1) throw err;
          const wait = err instanceof ApiError && err.retryAfterSec ? err.retryAfterSec * 1000 : Math.min(8_000, 500 * 2 ** i);
          await sleep(wait * (0.75 + Math.random() * 0.5));
        }
      }
    },
  };
}
