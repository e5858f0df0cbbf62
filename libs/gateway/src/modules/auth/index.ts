import { Elysia } from "elysia";
import * as v from "valibot";
import type { GatewayDeps } from "../../deps.ts";
import { createRateLimiter } from "../../http/rate-limit.ts";
import { clientIp } from "../../http/client-ip.ts";
import { RefreshBody, RegisterBody, TokenBody } from "./model.ts";
import { createAuthService } from "./service.ts";

/** `/auth/*` routes: register, token (JSON or form), refresh; rate-limited per client IP. */
export function authModule(deps: GatewayDeps) {
  const auth = createAuthService(deps);
  const limit = createRateLimiter(deps.ephemeral, "auth", deps.settings.authRatePerMin);
  return new Elysia({ prefix: "/auth" })
    .onBeforeHandle(async ({ request, server }) => {
      await limit(clientIp(request, server));
    })
    .post(
      "/register",
      async ({ body, set }) => {
        set.status = 201;
        return auth.register(body);
      },
      { body: RegisterBody },
    )
    .post("/token", async ({ body }) => {
      const b = v.parse(TokenBody, body);
      return auth.login(b.username, b.password);
    }, { body: v.unknown() })
    .post("/refresh", ({ body }) => auth.refresh(body.refresh_token), { body: RefreshBody });
}
