// The status worker: consumes the event log as one member of the "status" consumer group (scale by running more).
import { runWorkerApp } from "@chat4all/platform";

await runWorkerApp("status", process.env);
