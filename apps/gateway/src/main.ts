// A gateway instance: REST, WebSocket and Connect for clients; run as many as needed behind one entry point.
import { runServices } from "@chat4all/kernel";
import { bootstrap, gatewayService, openCore, startBootServer } from "@chat4all/platform";

const { config, log, infra, closer } = bootstrap("gateway", process.env);
// Until every dependency answers, the port reports "not ready" instead of refusing connections.
const boot = startBootServer(config.C4A_HOST, config.C4A_GATEWAY_PORT);
const core = await openCore(infra, closer, infra.metadataRemote());
const gateway = await gatewayService(config, infra, core, log, {
  beforeListen: () => boot.stop(),
  onListen: (url) => log.info("gateway listening", { url }),
});
const code = await runServices([gateway], { log: log.info });
await closer.closeAll();
process.exit(code);
