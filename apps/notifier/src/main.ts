// The notifier: consumes chat.notification.push.v1 and posts each notification to the push provider (C4A_PUSH_API_URL).
import { createLogger, runServices } from "@chat4all/kernel";
import { channelServices, createCloser, createInfra, loadConfig } from "@chat4all/platform";

const config = loadConfig(process.env);
const log = createLogger(config.C4A_LOG_LEVEL, { app: "notifier" });
const infra = createInfra(config, log);
const closer = createCloser(log);
const events = closer.add("event log", await infra.eventLog());
const code = await runServices(await channelServices(config, infra, events, log, ["notifier"]), { log: log.info });
await closer.closeAll();
process.exit(code);
