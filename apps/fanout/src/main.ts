// The fanout worker: consumes the event log as one member of the "fanout" consumer group (scale by running more).
import { runWorkerApp } from "@chat4all/platform";

await runWorkerApp("fanout", process.env);
