import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { checkAccess, resolveModel } from "../access/access.js";
import type { Caller } from "../access/auth.js";
import { admitRequest } from "./admit.js";
import { cachedAnswer, cachingFor, serveCached } from "./caching.js";
import { clientRequest } from "./client-request.js";
import type { ProxyDeps } from "./deps.js";
import { dispatch } from "./dispatch.js";
import type { Operation, ProxyBody } from "./operation.js";
import { endUserOf } from "./end-user-id.js";
import { requestRouting } from "./request-routing.js";
import { relay } from "./relay.js";
import { ApiError } from "../errors.js";

/** One proxied request, as the HTTP layer hands it over: who calls, the validated body, the headers a stage reads. */
export interface ProxyRequest {
  caller: Caller;
  body: ProxyBody;
  headers: IncomingHttpHeaders;
  requestId: string;
}

/**
 * The proxy pipeline, stage by stage:
 *   1. the request in OpenAI's chat shape (another client format is converted, and kept for
 *      deployments that speak it), its model resolved through aliases, access checked;
 *   2. admission: rate limits and budgets (one Redis round trip in a fleet), held until the end;
 *   3. the response cache: a hit is answered here;
 *   4. dispatch: a deployment of the model group, retried and falling back as configured;
 *   5. relay: the answer to the client, streamed or whole, and its spend recorded.
 */
export async function proxy(deps: ProxyDeps, op: Operation, request: ProxyRequest, res: ServerResponse): Promise<void> {
  const { caller } = request;
  const original = op.client ? clientRequest(op.client, request.body, request.headers) : undefined;
  const body = (original?.chat ?? request.body) as ProxyBody;
  const model = resolveModel(caller, body.model);
  checkAccess(caller, model, deps.router);
  const routing = requestRouting(body, request.headers);
  routing.fallbacks?.forEach((fallback, index) => {
    // A fallback is a model like any other: the caller must be allowed it (checked now, not when it is reached).
    fallback.model = resolveModel(caller, fallback.model);
    try {
      checkAccess(caller, fallback.model, deps.router);
    } catch (error) {
      if (error instanceof ApiError) throw new ApiError(error.status, `fallbacks[${index}]: ${error.message}`, error.type, "fallbacks");
      throw error;
    }
  });
  // LiteLLM checks the global budget for virtual keys; the master key is the admin's.
  if (caller.kind === "key") await deps.proxyBudget.check();
  const endUserId = endUserOf(body, request.headers);
  const endUser = endUserId ? await deps.endUsers.get(endUserId) : null;
  if (endUser?.blocked) throw ApiError.badRequest(`User blocked from making LLM API Calls. User=${endUser.user_id}`, "user");
  const caching = cachingFor(deps, op, model, body);
  // Budgets hold under concurrency: the request reserves its expected cost until its spend is recorded.
  const costKey = `${caller.kind === "key" ? caller.key.token : "master"}|${model}`;
  const ticket = await admitRequest(deps, caller, endUser, costKey);
  let tokens = 0;
  try {
    const startTime = new Date();
    const cached = await cachedAnswer(deps, caching);
    if (cached !== undefined) {
      serveCached(deps, op, caller, model, caching!.key, cached, res, { startTime, endUser: endUserId });
      return;
    }
    // A client that goes away mid-request stops the upstream call too.
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const stream = op.streams && body.stream === true;
    // The answering deployment's rpm/tpm admission, settled with the tokens once the answer is in.
    const { routed, limits } = await dispatch(deps, op, model, body, original, {
      signal: abort.signal,
      stream,
      region: endUser?.allowed_model_region ?? undefined,
      routing,
      header: (name, value) => res.setHeader(name, value),
    });
    try {
      tokens = await relay(deps, op, caller, body, res, routed, {
        stream,
        abort,
        startTime,
        requestId: request.requestId,
        costKey,
        caching,
        endUser: endUserId,
      });
    } finally {
      limits?.done(tokens);
      if (routed.attempt.ok) deps.router.ended(routed.deployment, tokens);
    }
  } finally {
    ticket.done(tokens);
  }
}
