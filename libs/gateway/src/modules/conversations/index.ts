import { Elysia } from "elysia";
import type { GatewayDeps } from "../../deps.ts";
import { authGuard } from "../../http/auth-guard.ts";
import { AddMemberBody, ConversationParams, CreateConversationBody, MemberParams } from "./model.ts";
import { createConversationService } from "./service.ts";

/** `/v1/conversations*` routes. */
export function conversationsModule(deps: GatewayDeps, service = createConversationService(deps)) {
  return new Elysia({ prefix: "/v1/conversations" })
    .use(authGuard(deps.signer))
    .post(
      "",
      async ({ caller, body, set }) => {
        const r = await service.create(caller.userId, body);
        set.status = r.created ? 201 : 200;
        return r.body;
      },
      { body: CreateConversationBody },
    )
    .get("", ({ caller }) => service.list(caller.userId))
    .get("/:id", ({ caller, params }) => service.get(caller.userId, params.id), { params: ConversationParams })
    .post(
      "/:id/members",
      async ({ caller, params, body, set }) => {
        const r = await service.addMember(caller.userId, params.id, body.user_id, body.role);
        set.status = r.status === "added" ? 201 : 200;
        return r;
      },
      { params: ConversationParams, body: AddMemberBody },
    )
    .delete("/:id/members/:user_id", ({ caller, params }) => service.removeMember(caller.userId, params.id, params.user_id), {
      params: MemberParams,
    });
}
