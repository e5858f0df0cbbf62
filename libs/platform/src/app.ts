import { createLogger, runServices } from "@chat4all/kernel";
import type { Metadata } from "@chat4all/metadata";
import { type Core, createCloser, workerServices } from "./compose.ts";
import { loadConfig } from "./config.ts";
import { type Infra, createInfra } from "./infra.ts";

/** What every app process starts from: parsed config, logger, adapter opener, closer. */
export function bootstrap(app: string, env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  const log = createLogger(config.C4A_LOG_LEVEL, { app });
  return { config, log, infra: createInfra(config, log), closer: createCloser(log) };
}

/** Opens the adapters shared by the gateway and the workers, registering each with the closer. */
export async function openCore(infra: Infra, closer: ReturnType<typeof createCloser>, metadata: Metadata): Promise<Core> {
  const core = {
    events: closer.add("event log", await infra.eventLog()),
    bus: closer.add("bus", await infra.bus()),
    messages: closer.add("message store", await infra.messageStore()),
    metadata,
  };
  closer.add("ephemeral", await infra.ephemeral());
  return core;
}

/** A pipeline worker process: opens the core, runs the worker until SIGTERM, closes, exits. */
export async function runWorkerApp(name: "ingest" | "fanout" | "status", env: Record<string, string | undefined>): Promise<never> {
  const { infra, closer, log } = bootstrap(name, env);
  const core = await openCore(infra, closer, infra.metadataRemote());
  const code = await runServices(await workerServices(infra, core, log, [name]), { log: log.info });
  await closer.closeAll();
  process.exit(code);
}


