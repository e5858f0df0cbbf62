// The whole platform in one process on the embedded adapters: `bun run dev`.
// Apps talk exactly as in the cluster: through the ports, and to metadata through Connect-RPC
// (an in-process transport here instead of HTTP).
import { createLogger, runServices } from "@chat4all/kernel";
import {
  channelServices,
  createCloser,
  createInfra,
  gatewayService,
  loadConfig,
  metadataInProcess,
  openCore,
  outboxRelayService,
  startSimulators,
  usesDevSecret,
  workerServices,
} from "@chat4all/platform";

// The provider simulators run in this process too, on any free ports unless configured.
const config = loadConfig({ C4A_MODE: "embedded", C4A_WHATSAPP_SIM_PORT: "0", C4A_INSTAGRAM_SIM_PORT: "0", C4A_PUSH_SIM_PORT: "0", ...process.env });
const log = createLogger(config.C4A_LOG_LEVEL, { app: "dev" });
if (config.C4A_MODE !== "embedded") throw new Error("bun run dev runs the embedded mode; use `just up` for the cluster");
if (usesDevSecret(config)) log.warn("using the built-in development JWT secret (set C4A_JWT_SECRET for anything shared)");
const infra = createInfra(config, log);
const closer = createCloser(log);
const local = await infra.metadataLocal();
closer.add("metadata", local.store);
const core = await openCore(infra, closer, metadataInProcess(local));
let gatewayUrl: string | undefined;
const simulators = startSimulators(config, log, () => gatewayUrl);
const gateway = await gatewayService(config, infra, core, log, {
  onListen: (url) => {
    gatewayUrl = url;
    log.info("chat4all is up", { url, data: config.C4A_DATA_DIR });
    console.log(`\n  Chat4All (embedded) → ${url}\n  data: ${config.C4A_DATA_DIR}\n`);
    console.log(`  simulators: whatsapp → ${simulators.urls.whatsapp}  instagram → ${simulators.urls.instagram}  push → ${simulators.urls.push}\n`);
  },
});
const workers = await workerServices(infra, core, log, ["ingest", "fanout", "status"]);
const channels = await channelServices(config, infra, core.events, log, ["connectors", "notifier"], simulators.urls);
const relay = outboxRelayService(async () => core.events, local.outbox, log);
const code = await runServices([gateway, ...workers, relay, simulators.service, ...channels], { log: log.info });
await closer.closeAll();
process.exit(code);
