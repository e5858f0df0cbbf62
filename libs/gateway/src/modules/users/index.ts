import { notFound } from "@chat4all/kernel";
import { Elysia } from "elysia";
import type { GatewayDeps } from "../../deps.ts";
import { authGuard } from "../../http/auth-guard.ts";
import { LinkIdentityBody, UsersQuery } from "./model.ts";

/** `/v1/users*`: directory search, the caller's profile, and linked external identities. */
export function usersModule(deps: GatewayDeps) {
  const { metadata } = deps;
  return new Elysia({ prefix: "/v1/users" })
    .use(authGuard(deps.signer))
    .get(
      "",
      async ({ query }) => {
        const users = await metadata.searchUsers({ text: query.q || undefined, limit: Number(query.limit), afterUsername: query.after });
        return users.map((u) => ({ user_id: u.id, username: u.username, name: u.name, avatar_url: u.avatarUrl }));
      },
      { query: UsersQuery },
    )
    .get("/me", async ({ caller }) => {
      const u = await metadata.getUser(caller.userId);
      if (!u) throw notFound("USER_NOT_FOUND", "the account no longer exists");
      return { user_id: u.id, username: u.username, email: u.email, name: u.name };
    })
    .post(
      "/me/identities",
      async ({ caller, body, set }) => {
        await metadata.linkIdentity(caller.userId, body.channel, body.external_id);
        set.status = 201;
        return { status: "linked", channel: body.channel };
      },
      { body: LinkIdentityBody },
    )
    .get("/me/identities", async ({ caller }) => {
      const out: Record<string, string> = {};
      for (const i of await metadata.listIdentities(caller.userId)) out[i.channel] = i.externalId;
      return out;
    });
}
