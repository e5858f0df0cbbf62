import { hashToken, randomToken } from "@chat4all/auth";
import { TOPICS, encodeAccountCreated } from "@chat4all/events";
import { unauthenticated } from "@chat4all/kernel";
import type { GatewayDeps } from "../../deps.ts";
import type { RegisterBody } from "./model.ts";

/** A fresh token pair as API.md returns it. */
export interface TokenPair {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  refresh_token: string;
}

/** Accounts: registration, password login, refresh-token rotation with reuse detection. */
export function createAuthService(deps: GatewayDeps) {
  const { metadata, passwords, signer, settings } = deps;
  const badLogin = () => unauthenticated("INVALID_CREDENTIALS", "invalid username or password");

  async function issue(user: { id: string; username: string }, familyId: string): Promise<TokenPair> {
    const refresh = randomToken();
    await metadata.putRefreshToken({
      tokenHash: hashToken(refresh),
      userId: user.id,
      familyId,
      expiresAt: Date.now() + settings.refreshTtlSec * 1000,
    });
    return {
      access_token: await signer.sign({ sub: user.id, username: user.username }, settings.accessTtlSec),
      token_type: "bearer",
      expires_in: settings.accessTtlSec,
      refresh_token: refresh,
    };
  }

  return {
    /**
     * Creates the account (409 on a taken username/email). Its `user.account.created` event is
     * committed with it (the metadata outbox) and relayed to the event log by the metadata service,
     * so an account never exists without its event, even when the log is down at that moment.
     */
    async register(b: RegisterBody) {
      const id = crypto.randomUUID();
      const createdAt = Date.now();
      const user = await metadata.createUser({
        id,
        username: b.username,
        email: b.email.toLowerCase(),
        name: b.name,
        passwordHash: await passwords.hash(b.password),
        announce: [{ topic: TOPICS.accountCreated, key: id, value: encodeAccountCreated({ userId: id, username: b.username, createdAt }) }],
      });
      return { id: user.id, username: user.username, email: user.email, name: user.name };
    },

    /** Password login; unknown users cost the same time and get the same answer as wrong passwords. */
    async login(username: string, password: string): Promise<TokenPair> {
      const user = await metadata.getUserByUsername(username);
      if (!user) {
        await passwords.verifyDummy(password);
        throw badLogin();
      }
      if (!(await passwords.verify(password, user.passwordHash))) throw badLogin();
      return issue(user, crypto.randomUUID());
    },

    /** Rotates a refresh token; presenting a used one revokes its whole family. */
    async refresh(token: string): Promise<TokenPair> {
      const now = Date.now();
      const t = await metadata.consumeRefreshToken(hashToken(token), now);
      if (!t) throw unauthenticated("INVALID_REFRESH_TOKEN", "invalid refresh token");
      if (t.reused) {
        await metadata.revokeRefreshFamily(t.familyId);
        deps.log.warn("refresh token reuse: family revoked", { userId: t.userId });
        throw unauthenticated("INVALID_REFRESH_TOKEN", "invalid refresh token");
      }
      if (t.expiresAt <= now) throw unauthenticated("REFRESH_TOKEN_EXPIRED", "refresh token expired");
      const user = await metadata.getUser(t.userId);
      if (!user) throw unauthenticated("INVALID_REFRESH_TOKEN", "invalid refresh token");
      return issue(user, t.familyId);
    },
  };
}
