import { Elysia } from "elysia";
import type { GatewayDeps } from "../../deps.ts";
import { authGuard } from "../../http/auth-guard.ts";
import { HistoryParams, HistoryQuery, SendBody, StatusBody, SyncQuery } from "./model.ts";
import type { createMessageService } from "./service.ts";

/** `/v1/messages*` and `/v1/sync`. */
export function messagesModule(deps: GatewayDeps, service: ReturnType<typeof createMessageService>) {
  return new Elysia({ prefix: "/v1" })
    .use(authGuard(deps.signer))
    .post(
      "/messages",
      async ({ caller, body, set }) => {
        const r = await service.send(caller.userId, body);
        set.status = 202;
        return r;
      },
      { body: SendBody },
    )
    .patch(
      "/messages/status",
      async ({ caller, body, set }) => {
        const r = await service.markStatus(caller.userId, body);
        set.status = 202;
        return r;
      },
      { body: StatusBody },
    )
    .get("/messages/:conversation_id", ({ caller, params, query }) => service.history(caller.userId, params.conversation_id, query), {
      params: HistoryParams,
      query: HistoryQuery,
    })
    .get("/sync", ({ caller, query }) => service.sync(caller.userId, query.since, query.limit), { query: SyncQuery });
}
