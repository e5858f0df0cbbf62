import * as v from "valibot";
import { SendBody } from "../modules/messages/model.ts";

const Uuid = v.pipe(v.string(), v.uuid("must be a UUID"));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

/** Every client → server frame of the WebSocket protocol (docs/websocket-protocol.md). */
export const ClientFrame = v.variant("type", [
  v.object({ type: v.literal("PING") }),
  v.object({ type: v.literal("ACK"), conversation_id: Uuid, sequence_number: v.pipe(Seq, v.minValue(1)) }),
  v.object({ type: v.literal("READ"), conversation_id: Uuid, sequence_number: v.pipe(Seq, v.minValue(1)) }),
  v.object({ type: v.literal("TYPING"), conversation_id: Uuid }),
  v.object({
    type: v.literal("RESUME"),
    positions: v.pipe(
      v.record(Uuid, Seq),
      v.check((p) => Object.keys(p).length <= 1000, "at most 1000 conversations per RESUME"),
    ),
  }),
  v.object({ ...SendBody.entries, type: v.literal("SEND") }),
]);
/** A parsed client frame. */
export type ClientFrame = v.InferOutput<typeof ClientFrame>;

/** An `ERROR` frame. */
export const errorFrame = (code: string, message: string, ref?: string) =>
  JSON.stringify({ type: "ERROR", code, message, ...(ref ? { ref } : {}) });
