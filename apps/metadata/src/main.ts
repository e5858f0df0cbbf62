// The metadata app: MetadataService and SequencerService over Connect-RPC, on PostgreSQL (cluster) or PGlite.
import { createLogger, runServices } from "@chat4all/kernel";
import { createInfra, loadConfig, metadataServer } from "@chat4all/platform";

const config = loadConfig(process.env);
const log = createLogger(config.C4A_LOG_LEVEL, { app: "metadata" });
const metadata = await createInfra(config, log).metadataLocal();
const code = await runServices([metadataServer(config, metadata, log)], { log: log.info });
await metadata.store.close();
process.exit(code);
