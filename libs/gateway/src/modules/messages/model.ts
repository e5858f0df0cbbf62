import { MESSAGE_TYPES, TARGET_CHANNELS } from "@chat4all/kernel";
import * as v from "valibot";
import { BoundedObject } from "../conversations/model.ts";

const Uuid = v.pipe(v.string(), v.uuid("must be a UUID"));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const QuerySeq = v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a non-negative integer"), v.transform(Number));

/** `POST /v1/messages` body, also the WebSocket `SEND` frame. */
export const SendBody = v.object({
  idempotency_key: Uuid,
  conversation_id: Uuid,
  message_type: v.optional(v.picklist(MESSAGE_TYPES, "message_type must be text, file or location"), "text"),
  content: v.pipe(v.string(), v.maxLength(16_384, "content is limited to 16384 characters")),
  attachments: v.optional(v.nullable(BoundedObject)),
  metadata: v.optional(v.nullable(BoundedObject)),
  target_channels: v.optional(
    v.pipe(v.array(v.picklist(TARGET_CHANNELS, "unknown channel")), v.minLength(1), v.maxLength(4)),
    ["delivery"],
  ),
});
/** Parsed send body. */
export type SendBody = v.InferOutput<typeof SendBody>;

/** `GET /v1/messages/{conversation_id}` params and query. */
export const HistoryParams = v.object({ conversation_id: Uuid });
export const HistoryQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}$/, "limit must be 1..100"), v.transform(Number), v.minValue(1), v.maxValue(100)), "50"),
  before_sequence: v.optional(QuerySeq),
  after_sequence: v.optional(QuerySeq),
});

/** `PATCH /v1/messages/status` body. */
export const StatusBody = v.object({
  conversation_id: Uuid,
  message_id: Uuid,
  sequence_number: Seq,
  status: v.picklist(["DELIVERED", "READ"], "status must be DELIVERED or READ"),
  sender_id: v.optional(Uuid),
});
/** Parsed status body. */
export type StatusBody = v.InferOutput<typeof StatusBody>;

/** `GET /v1/sync` query. */
export const SyncQuery = v.object({
  since: v.pipe(v.string(), v.isoTimestamp("since must be an ISO-8601 timestamp")),
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}$/, "limit must be 1..500"), v.transform(Number), v.minValue(1), v.maxValue(500)), "100"),
});
