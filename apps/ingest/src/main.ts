// The ingest worker: consumes the event log as one member of the "ingest" consumer group (scale by running more).
import { runWorkerApp } from "@chat4all/platform";

await runWorkerApp("ingest", process.env);
