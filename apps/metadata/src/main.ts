// The metadata app: MetadataService and SequencerService over Connect-RPC, on PostgreSQL (cluster) or PGlite.
import { runServices } from "@chat4all/kernel";
import { bootstrap, metadataServer, startBootServer } from "@chat4all/platform";

const { config, log, infra } = bootstrap("metadata", process.env);
const boot = startBootServer(config.C4A_HOST, config.C4A_METADATA_PORT);
const metadata = await infra.metadataLocal();
await boot.stop();
const code = await runServices([metadataServer(config, metadata, log)], { log: log.info });
await metadata.store.close();
process.exit(code);
