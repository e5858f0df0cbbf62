// The simulated providers: WhatsApp (:3201), Instagram (:3202) and push (:3203) HTTP APIs, sending their
// signed webhooks to the gateway at C4A_WEBHOOK_TARGET_URL. A test double of the outside world, not part of Chat4All.
import { runServices } from "@chat4all/kernel";
import { bootstrap, startSimulators } from "@chat4all/platform";

const { config, log } = bootstrap("simulators", process.env);
const simulators = startSimulators(config, log);
process.exit(await runServices([simulators.service], { log: log.info }));
