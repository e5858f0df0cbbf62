// The notifier: consumes chat.notification.push.v1 and posts each notification to the push provider (C4A_PUSH_API_URL).
import { runServices } from "@chat4all/kernel";
import { bootstrap, channelServices } from "@chat4all/platform";

const { config, log, infra, closer } = bootstrap("notifier", process.env);
const events = closer.add("event log", await infra.eventLog());
const code = await runServices(await channelServices(config, infra, events, log, ["notifier"]), { log: log.info });
await closer.closeAll();
process.exit(code);
