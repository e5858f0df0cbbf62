export { TOPICS, type Topic, outboundTopic, dlqTopic, topicSpecs } from "./topics.ts";
export { PoisonEventError, isPoisonEventError } from "./poison.ts";
export {
  type StatusEvent,
  type OutboundEvent,
  type PushEvent,
  type AccountCreatedEvent,
  encodeMessageCreated,
  decodeMessageCreated,
  encodeMessageStored,
  decodeMessageStored,
  encodeStatusEvent,
  decodeStatusEvent,
  encodeOutbound,
  decodeOutbound,
  encodePush,
  decodePush,
  encodeAccountCreated,
  decodeAccountCreated,
} from "./codecs.ts";
