import { createMetadata } from "./create.ts";
import { describeMetadataContract } from "./contract.ts";

describeMetadataContract("pglite in-memory", async () => createMetadata({ backend: "pglite" }));
