// The channel connectors: consume connector.whatsapp.outbound.v1 and connector.instagram.outbound.v1 and
// send each message to the provider over HTTP (C4A_WHATSAPP_API_URL, C4A_INSTAGRAM_API_URL).
import { runServices } from "@chat4all/kernel";
import { bootstrap, channelServices } from "@chat4all/platform";

const { config, log, infra, closer } = bootstrap("connectors", process.env);
const events = closer.add("event log", await infra.eventLog());
closer.add("ephemeral", await infra.ephemeral());
const code = await runServices(await channelServices(config, infra, events, log, ["connectors"]), { log: log.info });
await closer.closeAll();
process.exit(code);
