import { checkAccess } from "../access/access.js";
import type { Caller } from "../access/auth.js";
import { ApiError } from "../errors.js";
import { decodeResponseId } from "../upstream/formats/response-id.js";
import { responsesApi } from "../upstream/formats/responses-api.js";
import { withTandemId } from "../upstream/formats/responses-native.js";
import { adapterFor } from "../upstream/providers/index.js";
import { safeJson } from "../upstream/upstream-response.js";
import type { ProxyDeps } from "./deps.js";

/** What can be done to a response a deployment keeps: OpenAI's routes under /v1/responses/{id}. */
export type KeptResponseAction = { method: "GET" | "DELETE" | "POST"; suffix: "" | "/cancel" | "/input_items" };

/**
 * Retrieves, deletes or cancels a kept response, or lists its input items, on the deployment that
 * made it — named by the id tandem handed out, so any pod finds it. The caller must be allowed
 * that deployment's model group. Nothing is charged: the provider bills none of these.
 */
export async function keptResponse(
  deps: Pick<ProxyDeps, "router" | "upstream">,
  caller: Caller,
  id: string,
  action: KeptResponseAction,
  query: string,
  signal: AbortSignal,
): Promise<{ status: number; contentType: string | undefined; body: string }> {
  const origin = decodeResponseId(id);
  if (!origin)
    throw new ApiError(
      404,
      `response_id: ${id} is not a response id tandem handed out, so no deployment is known to keep it`,
      "not_found_error",
      "response_id",
    );
  const deployment = deps.router.allDeployments().find((d) => d.id === origin.deploymentId);
  if (!deployment || !responsesApi.speaks(deployment))
    throw new ApiError(
      404,
      `response_id: ${id} was made by deployment ${origin.deploymentId}, which ${deployment ? "keeps no responses" : "is no longer configured"}`,
      "not_found_error",
      "response_id",
    );
  checkAccess(caller, deployment.name, deps.router);
  const path = `/responses/${encodeURIComponent(origin.upstreamId)}${action.suffix}${query}`;
  const wire = await adapterFor(deployment).request(deployment, "/chat/completions", {}, false, { body: {}, headers: {}, path });
  const response = await deps.upstream.post(
    deployment,
    { ...wire, method: action.method, body: action.method === "POST" ? "{}" : undefined },
    signal,
    false,
  );
  const text = await response.body.text();
  const parsed = safeJson(text);
  const body =
    parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? JSON.stringify(withTandemId(parsed as Record<string, unknown>, deployment))
      : text;
  return { status: response.status, contentType: response.contentType, body };
}
