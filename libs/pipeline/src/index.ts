export { createIngestService } from "./ingest.ts";
export { createFanoutService } from "./fanout.ts";
export { createStatusService } from "./status.ts";
export { type Decoded, createConsumerService, groupBy, forEachLimit } from "./consumer.ts";
export { type MembershipCache, createMembershipCache } from "./membership-cache.ts";
export { type Routes, type ExternalRoute, routeMessage } from "./routing.ts";
export { type MessageItem, toMessageItem, messageFrame, statusFrame } from "./frames.ts";
export {
  type Delivery,
  type MembershipChange,
  encodeDelivery,
  decodeDelivery,
  encodeMembershipChange,
  decodeMembershipChange,
} from "./deliveries.ts";
export { presenceKey } from "./presence.ts";
export { type OutboxRelaySettings, createOutboxRelay } from "./outbox-relay.ts";
