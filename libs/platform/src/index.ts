export { PlatformEnv, type PlatformConfig, loadConfig, usesDevSecret } from "./config.ts";
export { type Infra, createInfra } from "./infra.ts";
export { startBootServer } from "./boot.ts";
export { type Core, createCloser, metadataServer, metadataInProcess, gatewayService, outboxRelayService, workerServices } from "./compose.ts";
export { type ProviderUrls, startSimulators, providerUrls, channelServices } from "./channels.ts";
export { bootstrap, openCore, runWorkerApp } from "./app.ts";
