import * as v from "valibot";

/** `POST /auth/register` body. */
export const RegisterBody = v.object({
  username: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_\-:+]{3,32}$/, "username must be 3–32 of A-Z a-z 0-9 _ - : +")),
  password: v.pipe(v.string(), v.minLength(8, "password must have at least 8 characters"), v.maxLength(128)),
  email: v.pipe(v.string(), v.trim(), v.maxLength(254), v.email("invalid email")),
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
});
/** Parsed register body. */
export type RegisterBody = v.InferOutput<typeof RegisterBody>;

/** `POST /auth/token` body (JSON or form). */
export const TokenBody = v.object({
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  grant_type: v.optional(v.string()),
});

/** `POST /auth/refresh` body. */
export const RefreshBody = v.object({ refresh_token: v.pipe(v.string(), v.minLength(10), v.maxLength(200)) });
