// Users and conversations of a benchmark run, made through the public API (API.md) and cached in
// bench/.cache so later runs on the same servers only refresh tokens (registration and password
// login cost an argon2 hash each: ~35 ms of CPU on this machine).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { api, mapLimit } from "./http.ts";

/** A benchmark user with a fresh access token. */
export interface BenchUser {
  id: string;
  username: string;
  password: string;
  refresh?: string;
  token?: string;
}

/** A conversation and the indexes (into `users`) of its members. */
export interface BenchConversation {
  id: string;
  members: number[];
}

/** Everything a run needs: users 0..M-1, conversation j = users j*size … j*size+size-1. */
export interface Fixture {
  users: BenchUser[];
  conversations: BenchConversation[];
  created: { users: number; conversations: number };
}

interface Cache {
  users: (Omit<BenchUser, "token"> | null)[];
  layouts: Record<string, string[]>;
}

const PASSWORD = "bench-correct-horse-battery";

function loadCache(path: string | null): Cache {
  if (!path || !existsSync(path)) return { users: [], layouts: {} };
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Cache;
  } catch {
    return { users: [], layouts: {} };
  }
}

function saveCache(path: string | null, users: (BenchUser | null)[], layouts: Record<string, string[]>) {
  if (!path) return;
  mkdirSync(dirname(path), { recursive: true });
  const data: Cache = { users: Array.from(users, (u) => (u ? { id: u.id, username: u.username, password: u.password, refresh: u.refresh } : null)), layouts };
  writeFileSync(`${path}.tmp`, JSON.stringify(data));
  renameSync(`${path}.tmp`, path);
}

async function register(base: string, tag: string): Promise<BenchUser> {
  const username = `bench_${tag}_${crypto.randomUUID().slice(0, 8)}`;
  const r = await api(base, "POST", "/auth/register", {
    body: { username, password: PASSWORD, email: `${username}@bench.test`, name: `Bench ${username}` },
  });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, username, password: PASSWORD };
}

async function login(base: string, u: BenchUser): Promise<boolean> {
  const r = await api(base, "POST", "/auth/token", { body: { username: u.username, password: u.password } });
  if (r.status !== 200) return false;
  u.token = r.body.access_token;
  u.refresh = r.body.refresh_token;
  return true;
}

async function refresh(base: string, u: BenchUser): Promise<boolean> {
  if (!u.refresh) return false;
  const r = await api(base, "POST", "/auth/refresh", { body: { refresh_token: u.refresh } });
  if (r.status !== 200) return false;
  u.token = r.body.access_token;
  u.refresh = r.body.refresh_token;
  return true;
}

/**
 * Makes (or reuses) `recipients` users and `conversations` conversations of recipients/conversations
 * members each, spreading the calls over `gateways`. `cachePath` null: nothing cached (embedded runs).
 */
export async function ensureFixture(opts: {
  gateways: string[];
  recipients: number;
  conversations: number;
  cachePath: string | null;
  log: (line: string) => void;
}): Promise<Fixture> {
  const { gateways, recipients: M, conversations: K, cachePath, log } = opts;
  if (M % K !== 0 || M / K < 2) throw new Error(`recipients (${M}) must be a multiple (≥ 2×) of conversations (${K})`);
  const size = M / K;
  const gw = (i: number) => gateways[i % gateways.length] as string;
  const cache = loadCache(cachePath);
  const users: BenchUser[] = new Array(M);
  const created = { users: 0, conversations: 0 };
  let done = 0;
  const t0 = Date.now();
  await mapLimit(Array.from({ length: M }, (_, i) => i), 16, async (i) => {
    const cached = cache.users[i];
    let u: BenchUser | undefined = cached ? { ...cached } : undefined;
    if (u && !(await refresh(gw(i), u)) && !(await login(gw(i), u))) u = undefined;
    if (!u) {
      u = await register(gw(i), String(i));
      if (!(await login(gw(i), u))) throw new Error(`login of ${u.username} failed`);
      created.users++;
    }
    users[i] = u;
    if (++done % 250 === 0) {
      log(`  users: ${done}/${M} ready (${created.users} registered, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      saveCache(cachePath, mergeUsers(users, cache.users), cache.layouts);
    }
  });
  const allUsers = mergeUsers(users, cache.users);
  saveCache(cachePath, allUsers, cache.layouts);

  // Conversations: reuse the cached layout when every one still answers with the expected members.
  const key = `${K}x${size}`;
  const cachedIds = cache.layouts[key] ?? [];
  const ids: string[] = new Array(K);
  await mapLimit(Array.from({ length: K }, (_, j) => j), 16, async (j) => {
    const members = Array.from({ length: size }, (_, m) => j * size + m);
    const owner = users[members[0] as number] as BenchUser;
    const known = cachedIds[j];
    if (known) {
      const r = await api(gw(j), "GET", `/v1/conversations/${known}`, { token: owner.token });
      const got = new Set<string>((r.body?.members ?? []).map((m: { user_id: string }) => m.user_id));
      if (r.status === 200 && members.every((m) => got.has((users[m] as BenchUser).id))) {
        ids[j] = known;
        return;
      }
    }
    const others = members.slice(1).map((m) => (users[m] as BenchUser).id);
    const r = await api(gw(j), "POST", "/v1/conversations", {
      token: owner.token,
      body: { type: size === 2 ? "private" : "group", members: others, metadata: { bench: true } },
    });
    if (r.status !== 201 && r.status !== 200) throw new Error(`create conversation: ${r.status} ${JSON.stringify(r.body)}`);
    ids[j] = r.body.conversation_id;
    created.conversations++;
  });
  cache.layouts[key] = ids;
  saveCache(cachePath, allUsers, cache.layouts);
  return {
    users,
    conversations: ids.map((id, j) => ({ id, members: Array.from({ length: size }, (_, m) => j * size + m) })),
    created,
  };
}

/** The fresh users first, then cached ones beyond them (kept for larger runs later). */
function mergeUsers(fresh: BenchUser[], cached: Cache["users"]): (BenchUser | null)[] {
  return Array.from({ length: Math.max(fresh.length, cached.length) }, (_, i) => fresh[i] ?? cached[i] ?? null);
}
