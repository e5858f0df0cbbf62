// Starts the whole platform as `bun run dev` does, as a child process on a free port with its own data folder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

/** A running embedded platform. */
export interface Platform {
  url: string;
  dataDir: string;
  proc: ReturnType<typeof Bun.spawn>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Spawns `apps/dev` and resolves once it printed its URL. */
export async function startEmbedded(env: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), "c4a-"))): Promise<Platform> {
  const port = env.C4A_GATEWAY_PORT ?? String(freePort());
  const proc = Bun.spawn(["bun", join(root, "apps/dev/src/main.ts")], {
    cwd: root,
    env: {
      ...process.env,
      HTTP_PROXY: "",
      HTTPS_PROXY: "",
      http_proxy: "",
      https_proxy: "",
      C4A_MODE: "embedded",
      C4A_ENV: "test",
      C4A_DATA_DIR: dataDir,
      C4A_GATEWAY_PORT: port,
      C4A_PUBLIC_URL: `http://127.0.0.1:${port}`,
      C4A_LOG_LEVEL: "warn",
      C4A_AUTH_RATE_PER_MIN: "0",
      ...env,
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url) {
    if (Date.now() > deadline) throw new Error(`platform did not start:\n${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`platform exited (${await proc.exited}):\n${out}`);
    out += new TextDecoder().decode(value);
    url = /Chat4All \(embedded\) → (\S+)/.exec(out)?.[1];
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    for (;;) if ((await reader.read()).done) break;
  })().catch(() => {});
  return {
    url: url.replace(/\/$/, ""),
    dataDir,
    proc,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Removes a data folder made by startEmbedded. */
export const removeData = (dir: string) => rmSync(dir, { recursive: true, force: true });

/** A TCP port that was free a moment ago. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
