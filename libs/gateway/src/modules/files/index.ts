import { Elysia } from "elysia";
import type { GatewayDeps } from "../../deps.ts";
import { authGuard } from "../../http/auth-guard.ts";
import { createRateLimiter } from "../../http/rate-limit.ts";
import { CompleteBody, UploadBody, UploadParams, ViewQuery } from "./model.ts";
import { createFileService } from "./service.ts";

/** The wildcard tail of `/view/*` as an object key (each segment percent-decoded), or "" when unreadable. */
function keyFromPath(raw: string | undefined): string {
  try {
    return (raw ?? "").split("/").map(decodeURIComponent).join("/");
  } catch {
    return "";
  }
}

/** `/v1/files/*`: presigned uploads, multipart uploads and presigned downloads. */
export function filesModule(deps: GatewayDeps, service = createFileService(deps)) {
  const limitUploads = createRateLimiter(deps.ephemeral, "upload", deps.settings.uploadRatePerMin ?? 60);
  return new Elysia({ prefix: "/v1/files" })
    .use(authGuard(deps.signer))
    .post("/presigned-url", async ({ caller, body }) => {
      await limitUploads(caller.userId);
      return service.presignUpload(caller.userId, body);
    }, { body: UploadBody })
    .post("/multipart", async ({ caller, body }) => {
      await limitUploads(caller.userId);
      return service.startMultipart(caller.userId, body);
    }, { body: UploadBody })
    .post("/multipart/:upload_id/complete", ({ caller, params, body }) => service.completeMultipart(caller.userId, params.upload_id, body), {
      params: UploadParams,
      body: CompleteBody,
    })
    .delete("/multipart/:upload_id", ({ caller, params }) => service.abortMultipart(caller.userId, params.upload_id), { params: UploadParams })
    .get("/view/*", ({ caller, params, query, set }) => {
      set.headers["cache-control"] = "no-store";
      return service.view(caller.userId, keyFromPath(params["*"]), query.expires_in);
    }, { query: ViewQuery });
}
