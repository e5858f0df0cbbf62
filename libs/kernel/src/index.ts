export {
  DomainError,
  type ErrorKind,
  invalid,
  unauthenticated,
  forbidden,
  notFound,
  conflict,
  tooLarge,
  rateLimited,
  unavailable,
  httpStatusOf,
  isDomainError,
} from "./errors.ts";
export { type Service, runServices, sleep, withRetry, createLimiter, singleFlight } from "./service.ts";
export { type Logger, type LogLevel, createLogger } from "./log.ts";
export {
  type MessageType,
  type Channel,
  type TargetChannel,
  type DeliveryStatus,
  type StoredMessage,
  type MessageDraft,
  type Receipt,
  MESSAGE_TYPES,
  CHANNELS,
  EXTERNAL_CHANNELS,
  TARGET_CHANNELS,
} from "./domain.ts";
export { type Metrics, createMetrics } from "./metrics.ts";
