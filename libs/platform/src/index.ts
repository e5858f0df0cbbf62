export { PlatformEnv, type PlatformConfig, loadConfig, usesDevSecret } from "./config.ts";
export { type Infra, createInfra } from "./infra.ts";
export { type Core, createCloser, metadataServer, metadataInProcess, gatewayService, workerServices } from "./compose.ts";
