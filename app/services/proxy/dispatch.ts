import type { Deployment } from "../../config/model-config.js";
import type { Ticket } from "../access/admission.js";
import { ApiError } from "../errors.js";
import { NoDeploymentAvailable, NoDeploymentInRegion, type Attempt, type Busy } from "../upstream/model-router.js";
import { adapterFor } from "../upstream/providers/index.js";
import type { NativeRequest } from "../upstream/providers/provider.js";
import type { UpstreamResponse } from "../upstream/upstream-client.js";
import { admitDeployment } from "./admit.js";
import type { ClientRequest } from "./client-request.js";
import type { ProxyDeps } from "./deps.js";
import { speaksClientFormat, type Operation, type ProxyBody } from "./operation.js";

// Worth another deployment: the upstream is overloaded, failing or timed out; a 4xx is the request's own fault.
const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

/** What a deployment answered: its response, and the error text of a failure. */
export type Sent = { response: UpstreamResponse; failureText?: string };

/** The deployment that answered (or the last that failed), after how many tries. */
export interface Routed {
  deployment: Deployment;
  attempt: Exclude<Attempt<Sent>, Busy>;
  tries: number;
}

/**
 * Sends the request to a deployment of its model group, retrying and falling back as configured.
 * Returns what answered, with the answering deployment's rpm/tpm admission, to settle with the
 * tokens once the answer is in.
 */
export async function dispatch(
  deps: ProxyDeps,
  op: Operation,
  model: string,
  body: ProxyBody,
  original: ClientRequest | undefined,
  call: { signal: AbortSignal; stream: boolean; region?: string },
): Promise<{ routed: Routed; limits: Ticket | undefined }> {
  let limits: Ticket | undefined;
  try {
    const routed = await deps.router.route<Sent>(
      model,
      async (deployment) => {
        const admitted = await admitDeployment(deps, deployment);
        if ("busy" in admitted) return admitted;
        let attempt: Attempt<Sent>;
        try {
          // A deployment that speaks the client's own format gets the client's body, with its own model name;
          // one that does not gets the translation, or the reason there is none (the client's 400).
          const native =
            speaksClientFormat(op, deployment) && original
              ? { body: { ...original.body, model: deployment.upstreamModel }, headers: original.headers }
              : undefined;
          attempt =
            !native && original?.untranslatable
              ? { ok: false, retryable: false, error: original.untranslatable }
              : await tryDeployment(deps, op, deployment, payloadFor(body, deployment, call.stream), call, native);
        } catch (error) {
          admitted.done(0);
          throw error;
        }
        if (attempt.ok) limits = admitted;
        else admitted.done(0);
        const outcome = attempt.ok ? "ok" : attempt.retryable ? "retried" : "failed";
        deps.metrics.upstreamAttempts.inc({ model_group: deployment.pattern ?? deployment.name, deployment: deployment.id, outcome });
        return attempt;
      },
      { region: call.region },
    );
    return { routed, limits };
  } catch (error) {
    if (error instanceof NoDeploymentInRegion)
      throw ApiError.badRequest(
        `user: the end user may be served only in region ${error.region} (allowed_model_region), and no deployment of model ${error.model} is there (litellm_params.region_name)`,
        "user",
      );
    if (error instanceof NoDeploymentAvailable)
      throw ApiError.rateLimited(
        `No deployments available for model ${error.model}: every deployment is ${error.why}. Try again in ${Math.ceil(error.retryAfterMs / 1000)}s`,
        error.retryAfterMs,
      );
    throw error;
  }
}

/** One call to one deployment: its answer, or why it failed and whether another deployment is worth a try. */
async function tryDeployment(
  deps: ProxyDeps,
  op: Operation,
  deployment: Deployment,
  payload: Record<string, unknown>,
  call: { signal: AbortSignal; stream: boolean },
  native: NativeRequest | undefined,
): Promise<Attempt<Sent>> {
  const adapter = adapterFor(deployment);
  if (!adapter.operations.includes(op.upstreamPath))
    // The request's own fault, not the deployment's: not retried, never a cooldown.
    return {
      ok: false,
      retryable: false,
      error: ApiError.badRequest(
        `model: ${deployment.name} is a ${deployment.provider}/ deployment, which serves chat completions only`,
        "model",
      ),
    };
  try {
    const wire = await adapter.request(deployment, op.upstreamPath, payload, call.stream, native);
    const response = await deps.upstream.post(deployment, wire, call.signal, call.stream);
    if (response.status < 400) return { ok: true, value: { response } };
    const text = await response.body.text();
    const failureText = adapter.failure ? adapter.failure(response.status, text) : text;
    return { ok: false, retryable: RETRYABLE(response.status), value: { response, failureText } };
  } catch (error) {
    // Unreachable, timed out or its credentials unavailable: another deployment may do. A 4xx made
    // from the request itself (a tool call's arguments, a content part the provider cannot take) is
    // the client's, and the client hanging up (499) ends it.
    if (error instanceof ApiError && error.status !== 499) return { ok: false, retryable: RETRYABLE(error.status), error };
    throw error;
  }
}

/** The body for this deployment: its own model name, and usage asked for on streams (without it a stream cannot be charged). */
function payloadFor(body: Record<string, unknown>, deployment: Deployment, stream: boolean): Record<string, unknown> {
  // `cache` is tandem's (LiteLLM's) to read; an upstream would refuse it as an unknown parameter.
  const { cache: _cache, ...rest } = body;
  const payload: Record<string, unknown> = { ...rest, model: deployment.upstreamModel };
  if (stream) {
    const options = typeof payload.stream_options === "object" && payload.stream_options !== null ? payload.stream_options : {};
    payload.stream_options = { ...options, include_usage: true };
  }
  return payload;
}
