// The metadata app: MetadataService and SequencerService over Connect-RPC, on PostgreSQL (cluster) or
// PGlite, and the relay of its outbox to the event log.
import { runServices } from "@chat4all/kernel";
import { bootstrap, metadataServer, outboxRelayService, startBootServer } from "@chat4all/platform";

const { config, log, infra } = bootstrap("metadata", process.env);
const boot = startBootServer(config.C4A_HOST, config.C4A_METADATA_PORT);
const metadata = await infra.metadataLocal();
await boot.stop();
const relay = outboxRelayService(() => infra.eventLog(), metadata.outbox, log, { close: true });
const code = await runServices([metadataServer(config, metadata, log), relay], { log: log.info });
await metadata.store.close();
process.exit(code);
