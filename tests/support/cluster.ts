// Drives the native cluster's processes through the project's own script (scripts/cluster.sh).
import { join } from "node:path";

const script = join(import.meta.dir, "..", "..", "scripts", "cluster.sh");

/** Runs `scripts/cluster.sh <action> <app>` (kill, start, restart) and waits for it. */
export async function clusterApp(action: "kill" | "start" | "restart", app: string): Promise<void> {
  const proc = Bun.spawn(["bash", script, action, app], { stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`cluster.sh ${action} ${app} failed (${code}): ${await new Response(proc.stderr).text()}`);
}
