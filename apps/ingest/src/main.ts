// The ingest worker: consumes the event log as one member of the "ingest" consumer group (scale by running more).
import { createLogger, runServices } from "@chat4all/kernel";
import { createCloser, createInfra, loadConfig, workerServices } from "@chat4all/platform";

const config = loadConfig(process.env);
const log = createLogger(config.C4A_LOG_LEVEL, { app: "ingest" });
const infra = createInfra(config, log);
const closer = createCloser(log);
const core = {
  events: closer.add("event log", await infra.eventLog()),
  bus: closer.add("bus", await infra.bus()),
  messages: closer.add("message store", await infra.messageStore()),
  metadata: infra.metadataRemote(),
};
closer.add("ephemeral", await infra.ephemeral());
const code = await runServices(await workerServices(infra, core, log, ["ingest"]), { log: log.info });
await closer.closeAll();
process.exit(code);
