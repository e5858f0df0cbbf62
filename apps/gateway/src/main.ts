// A gateway instance: REST, WebSocket and Connect for clients; run as many as needed behind one entry point.
import { createLogger, runServices } from "@chat4all/kernel";
import { createCloser, createInfra, gatewayService, loadConfig, startBootServer } from "@chat4all/platform";

const config = loadConfig(process.env);
const log = createLogger(config.C4A_LOG_LEVEL, { app: "gateway", port: config.C4A_GATEWAY_PORT });
const boot = startBootServer(config.C4A_HOST, config.C4A_GATEWAY_PORT);
const infra = createInfra(config, log);
const closer = createCloser(log);
const core = {
  events: closer.add("event log", await infra.eventLog()),
  bus: closer.add("bus", await infra.bus()),
  messages: closer.add("message store", await infra.messageStore()),
  metadata: infra.metadataRemote(),
};
closer.add("ephemeral", await infra.ephemeral());
const gateway = await gatewayService(config, infra, core, log, {
  beforeListen: () => boot.stop(),
  onListen: (url) => log.info("gateway listening", { url }),
});
const code = await runServices([gateway], { log: log.info });
await closer.closeAll();
process.exit(code);
