// Generated protobuf-es code lives in ../gen (written by `bunx buf generate`, never by hand).
// Every generated module is re-exported here; names are unique across them (tsc fails otherwise).
// A single file is also importable directly: `@chat4all/proto/chat4all/v1/chat_pb`.
export * from "../gen/chat4all/events/v1/events_pb.ts";
export * from "../gen/chat4all/v1/chat_pb.ts";
export * from "../gen/chat4all/v1/metadata_pb.ts";
export * from "../gen/chat4all/v1/sequencer_pb.ts";
