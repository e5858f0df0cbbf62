export { type Bus, type Subscription, subjects } from "./bus.ts";
export { type BusConfig, busConfigSchema, createBus } from "./create.ts";
export { MemoryBroker, MemoryBus } from "./bus-memory.ts";
export { type NatsBusOptions, NatsBus } from "./bus-nats.ts";
export { isPublishSubject, isSubscribePattern, subjectMatches } from "./subject.ts";
