export { SIGNATURE_HEADER, signBody, verifySignature } from "./signature.ts";
export { type ExternalChannel, uuidV5, inboundMessageId, clientRef } from "./ids.ts";
export {
  WebhookPayload,
  type WebhookBody,
  InboundMessage,
  ProviderStatus,
  ProviderMessageId,
  ExternalId,
  WEBHOOK_OBJECT,
  inboundWebhook,
  statusWebhook,
} from "./webhook-payload.ts";
export { type SentDelivery, type DeliveryMap, createDeliveryMap } from "./delivery-map.ts";
export { SendRequest, ProviderError, type ProviderClient, isTransient, createProviderClient } from "./provider-api.ts";
export { PushNotification, type PushClient, createPushClient } from "./push-api.ts";
export { type ProviderSimulatorOptions, type SimulatedMessage, type ProviderSimulator, createProviderSimulator } from "./provider-simulator.ts";
export { type RecordedNotification, type PushSimulator, createPushSimulator } from "./push-simulator.ts";
export { type ConnectorDeps, createConnectorService, sendRequest } from "./connector.ts";
export { createNotifierService, notificationOf } from "./notifier.ts";
export { retryBounded } from "./retry.ts";
export { type Listening, listenHttp, serversService } from "./http-server.ts";
