export { type AccessClaims, type TokenSigner, createTokenSigner } from "./jwt.ts";
export { type PasswordHasher, createPasswordHasher } from "./passwords.ts";
export { randomToken, hashToken, safeEqual } from "./tokens.ts";
