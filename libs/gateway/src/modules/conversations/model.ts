import * as v from "valibot";

const Uuid = v.pipe(v.string(), v.uuid("must be a UUID"));

/** A JSON object of bounded size (metadata, attachments). */
export const BoundedObject = v.pipe(
  v.record(v.string(), v.unknown()),
  v.check((o) => JSON.stringify(o).length <= 8192, "object too large (8 KiB max)"),
  v.check((o) => depth(o) <= 8, "object nested too deeply (8 levels max)"),
);

function depth(x: unknown, d = 0): number {
  if (d > 8 || x === null || typeof x !== "object") return d;
  let max = d + 1;
  for (const v of Object.values(x as object)) max = Math.max(max, depth(v, d + 1));
  return max;
}

/** `POST /v1/conversations` body. */
export const CreateConversationBody = v.object({
  type: v.picklist(["private", "group"], "type must be private or group"),
  members: v.pipe(v.array(Uuid), v.maxLength(1000, "at most 1000 members")),
  metadata: v.optional(v.nullable(BoundedObject)),
});
/** Parsed create body. */
export type CreateConversationBody = v.InferOutput<typeof CreateConversationBody>;

/** Path params with a conversation id. */
export const ConversationParams = v.object({ id: Uuid });
/** Path params with a conversation id and a user id. */
export const MemberParams = v.object({ id: Uuid, user_id: Uuid });
/** `POST /v1/conversations/{id}/members` body. */
export const AddMemberBody = v.object({ user_id: Uuid, role: v.optional(v.picklist(["admin", "member"]), "member") });
