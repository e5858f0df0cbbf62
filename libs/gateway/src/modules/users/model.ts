import { EXTERNAL_CHANNELS } from "@chat4all/kernel";
import * as v from "valibot";

/** `GET /v1/users` query. */
export const UsersQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(100)), "20"),
  q: v.optional(v.pipe(v.string(), v.maxLength(64))),
  after: v.optional(v.pipe(v.string(), v.maxLength(64))),
});

/** `POST /v1/users/me/identities` body. */
export const LinkIdentityBody = v.object({
  channel: v.picklist(EXTERNAL_CHANNELS, "channel must be whatsapp or instagram"),
  external_id: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128), v.regex(/^[\w.+\-@:]+$/, "external_id has invalid characters")),
});
