export { type GatewayDeps, type GatewaySettings } from "./deps.ts";
export { type GatewayApp, createGatewayApp } from "./app.ts";
export { type Mount, createGatewayServer } from "./server.ts";
export { type Caller, authenticate, authGuard } from "./http/auth-guard.ts";
export { errorBody, toHttpError } from "./http/errors.ts";
export { type Conn, type Hub, CloseCodes, createHub } from "./realtime/hub.ts";
export { ClientFrame } from "./realtime/frames.ts";
export { SendBody, StatusBody } from "./modules/messages/model.ts";
