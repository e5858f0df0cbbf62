import { unauthenticated } from "@chat4all/kernel";

/** Claims of a Chat4All access token. */
export interface AccessClaims {
  /** The user id (UUID). */
  sub: string;
  username: string;
  /** Expiry, epoch seconds. */
  exp: number;
  iat: number;
  iss: string;
}

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
/** Verified tokens remembered per signer (oldest dropped first). */
const VERIFIED_CACHE_MAX = 10_000;
const HEADER = b64url(enc.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/** HS256 signer/verifier for access tokens (WebCrypto, runtime-neutral). */
export interface TokenSigner {
  /** Issues a token for the user, valid `ttlSec` from now. */
  sign(claims: { sub: string; username: string }, ttlSec: number, nowMs?: number): Promise<string>;
  /** Verifies signature, algorithm, issuer and expiry; throws 401 `INVALID_TOKEN` / `TOKEN_EXPIRED`. */
  verify(token: string, nowMs?: number): Promise<AccessClaims>;
}

/** Creates the signer from a secret of at least 32 bytes. */
export function createTokenSigner(secret: string, issuer = "chat4all"): TokenSigner {
  if (enc.encode(secret).length < 32) throw new Error("jwt secret must be at least 32 bytes");
  const keyP = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const bad = () => unauthenticated("INVALID_TOKEN", "invalid access token");
  const verified = new Map<string, AccessClaims>();
  return {
    async sign(claims, ttlSec, nowMs = Date.now()) {
      const iat = Math.floor(nowMs / 1000);
      const payload: AccessClaims = { sub: claims.sub, username: claims.username, iat, exp: iat + ttlSec, iss: issuer };
      const body = `${HEADER}.${b64url(enc.encode(JSON.stringify(payload)))}`;
      const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await keyP, enc.encode(body)));
      return `${body}.${b64url(sig)}`;
    },
    async verify(token, nowMs = Date.now()) {
      if (typeof token !== "string" || token.length > 4096) throw bad();
      // A token string verified before verifies the same way until it expires: skip the HMAC.
      const hit = verified.get(token);
      if (hit) {
        if (hit.exp * 1000 > nowMs) return hit;
        verified.delete(token);
      }
      const parts = token.split(".");
      if (parts.length !== 3) throw bad();
      const [h, p, s] = parts as [string, string, string];
      let header: { alg?: unknown; typ?: unknown };
      let claims: Partial<AccessClaims>;
      try {
        header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
        claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
      } catch {
        throw bad();
      }
      if (header.alg !== "HS256") throw bad();
      // crypto.subtle.verify compares in constant time.
      const ok = await crypto.subtle.verify("HMAC", await keyP, Buffer.from(s, "base64url"), enc.encode(`${h}.${p}`));
      if (!ok) throw bad();
      if (typeof claims.sub !== "string" || typeof claims.username !== "string" || typeof claims.exp !== "number" || claims.iss !== issuer)
        throw bad();
      if (claims.exp * 1000 <= nowMs) throw unauthenticated("TOKEN_EXPIRED", "access token expired");
      if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value as string);
      verified.set(token, claims as AccessClaims);
      return claims as AccessClaims;
    },
  };
}
