// The metadata app: MetadataService and SequencerService over Connect-RPC, on PostgreSQL (cluster) or PGlite.
import { createLogger, runServices } from "@chat4all/kernel";
import { createInfra, loadConfig, metadataServer, startBootServer } from "@chat4all/platform";

const config = loadConfig(process.env);
const log = createLogger(config.C4A_LOG_LEVEL, { app: "metadata" });
const boot = startBootServer(config.C4A_HOST, config.C4A_METADATA_PORT);
const metadata = await createInfra(config, log).metadataLocal();
await boot.stop();
const code = await runServices([metadataServer(config, metadata, log)], { log: log.info });
await metadata.store.close();
process.exit(code);
