import type { TokenSigner } from "@chat4all/auth";
import { unauthenticated } from "@chat4all/kernel";
import { Elysia } from "elysia";

/** The authenticated caller. */
export interface Caller {
  userId: string;
  username: string;
}

/** Verifies `Authorization: Bearer <jwt>`; throws 401 otherwise. */
export async function authenticate(signer: TokenSigner, header: string | null | undefined): Promise<Caller> {
  if (!header) throw unauthenticated("MISSING_TOKEN", "missing bearer token");
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) throw unauthenticated("INVALID_TOKEN", "malformed authorization header");
  const claims = await signer.verify(m[1] as string);
  return { userId: claims.sub, username: claims.username };
}

/** Elysia plugin: every route after it gets `caller`, or the request ends in 401 before validation. */
export const authGuard = (signer: TokenSigner) =>
  new Elysia({ name: "auth-guard" }).derive({ as: "scoped" }, async ({ headers }) => ({
    caller: await authenticate(signer, headers.authorization),
  }));
