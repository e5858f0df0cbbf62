import * as v from "valibot";

const Size = v.pipe(v.number("size_bytes must be a number"), v.integer("size_bytes must be a whole number"), v.minValue(1, "size_bytes must be at least 1"), v.maxValue(Number.MAX_SAFE_INTEGER));

/** `POST /v1/files/presigned-url` and `POST /v1/files/multipart` body. */
export const UploadBody = v.object({
  filename: v.pipe(v.string(), v.minLength(1, "filename is required"), v.maxLength(1024, "filename is limited to 1024 characters")),
  content_type: v.pipe(v.string(), v.minLength(1, "content_type is required"), v.maxLength(255, "content_type is limited to 255 characters")),
  size_bytes: Size,
});
/** Parsed upload body. */
export type UploadBody = v.InferOutput<typeof UploadBody>;

/** Path params carrying a multipart upload id. */
export const UploadParams = v.object({ upload_id: v.pipe(v.string(), v.minLength(1), v.maxLength(4096, "upload_id too long")) });

/** `POST /v1/files/multipart/{upload_id}/complete` body. */
export const CompleteBody = v.object({
  parts: v.pipe(
    v.array(
      v.object({
        part_number: v.pipe(v.number(), v.integer(), v.minValue(1, "part_number must be 1..10000"), v.maxValue(10_000, "part_number must be 1..10000")),
        etag: v.pipe(v.string(), v.minLength(1, "etag is required"), v.maxLength(256)),
      }),
    ),
    v.minLength(1, "parts must not be empty"),
    v.maxLength(10_000, "at most 10000 parts"),
  ),
});
/** Parsed complete body. */
export type CompleteBody = v.InferOutput<typeof CompleteBody>;

/** `GET /v1/files/view/{file_key}` query: an optional shorter lifetime for the URL. */
export const ViewQuery = v.object({
  expires_in: v.optional(v.pipe(v.string(), v.regex(/^\d{1,6}$/, "expires_in must be a whole number of seconds"), v.transform(Number), v.minValue(1, "expires_in must be at least 1"))),
});
