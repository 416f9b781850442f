import type { Deployment } from "../../config/model-config.js";
import type { Ticket } from "../access/admission.js";
import { ApiError } from "../errors.js";
import {
  ModelNotServed,
  NoDeploymentAvailable,
  NoDeploymentInRegion,
  PromptTooLong,
  type Attempt,
  type Routed as RoutedBy,
  type Step,
} from "../upstream/model-router.js";
import { mockChatResponse } from "../upstream/mock-response.js";
import { fallbackKindOf } from "../upstream/failure-kind.js";
import { promptTokens } from "../billing/token-estimate.js";
import { adapterFor } from "../upstream/providers/index.js";
import type { NativeRequest } from "../upstream/providers/provider.js";
import type { UpstreamResponse } from "../upstream/upstream-client.js";
import { admitDeployment } from "./admit.js";
import type { ClientRequest } from "./client-request.js";
import type { ProxyDeps } from "./deps.js";
import { speaksClientFormat, type Operation, type ProxyBody } from "./operation.js";
import { pythonSeconds, ROUTING_FIELDS, type RequestRouting } from "./request-routing.js";

// Worth another deployment: the upstream is overloaded, failing or timed out; a 4xx is the request's own fault.
const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

/** What a deployment answered: its response, and the error text of a failure. */
export type Sent = { response: UpstreamResponse; failureText?: string };

/** The deployment that answered (or the last that failed), and what it took. */
export type Routed = RoutedBy<Sent>;

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
  call: {
    signal: AbortSignal;
    stream: boolean;
    region?: string;
    routing: RequestRouting;
    /** LiteLLM's x-litellm-* answer headers, set as routing learns them (an error answer carries them too). */
    header: (name: string, value: string) => void;
  },
): Promise<{ routed: Routed; limits: Ticket | undefined }> {
  const { routing } = call;
  let limits: Ticket | undefined;
  try {
    const routed = await deps.router.route<Sent>(
      model,
      async (deployment, step) => {
        const timeoutMs = routing.timeoutMs ?? (call.stream ? deployment.streamTimeoutMs : undefined) ?? deployment.timeoutMs;
        call.header("x-litellm-timeout", pythonSeconds(timeoutMs));
        const mocked = mockedFailure(routing, step, model);
        if (mocked) return mocked;
        const admitted = await admitDeployment(deps, deployment);
        if ("busy" in admitted) return admitted;
        let attempt: Attempt<Sent>;
        try {
          // A client-side fallback may bring fields of its own (its own messages).
          const stepBody = step.fallback > 0 && routing.fallbacks ? { ...body, ...routing.fallbacks[step.fallback - 1]!.overrides } : body;
          // A deployment that speaks the client's own format gets the client's body, with its own model name;
          // one that does not gets the translation, or the reason there is none (the client's 400).
          const native =
            speaksClientFormat(op, deployment) && original
              ? {
                  body: { ...withoutRoutingFields(original.body), model: deployment.upstreamModel },
                  headers: original.headers,
                  ...(op.client?.native ? { path: op.client.native.path } : {}),
                }
              : undefined;
          attempt =
            !native && original?.untranslatable
              ? { ok: false, retryable: false, error: original.untranslatable }
              : routing.mock.response !== undefined && !native
                ? { ok: true, value: { response: mockChatResponse(routing.mock.response, deployment.upstreamModel, call.stream) } }
                : routing.mock.timeout || deployment.mockTimeout
                  ? await mockedTimeout(deployment, timeoutMs, call.signal, routing.mock.timeout === true)
                  : await tryDeployment(
                      deps,
                      op,
                      deployment,
                      payloadFor(stepBody, deployment, call.stream),
                      { ...call, timeoutMs },
                      native,
                    );
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
      {
        region: call.region,
        fallbacks: routing.fallbacks?.map((f) => f.model),
        numRetries: routing.numRetries,
        deploymentId: original?.pinned,
        // Counted only when enable_pre_call_checks asks for it: tokenizing is not free.
        ...(deps.router.preCallChecks ? { promptTokens: promptTokens(model, op.prompt(body)) } : {}),
      },
    );
    call.header("x-litellm-attempted-retries", String(routed.retries));
    call.header("x-litellm-attempted-fallbacks", String(routed.fallbacks));
    call.header("x-litellm-max-retries", String(routed.maxRetries));
    return { routed, limits };
  } catch (error) {
    if (error instanceof ModelNotServed)
      throw ApiError.badRequest(`model: ${error.model} cannot be served by tandem: ${error.reasons.join("; ")}`, "model");
    if (error instanceof PromptTooLong)
      throw ApiError.badRequest(
        `messages: the prompt's ${error.promptTokens} tokens exceed the context window of every deployment of ${error.model} (max_input_tokens ${error.maxInputTokens}, enable_pre_call_checks); no deployment was called (context_length_exceeded)`,
        "messages",
      );
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

/**
 * LiteLLM's testing switches, as its router raises them: mock_testing_fallbacks fails the model
 * group asked for (so its fallbacks answer), mock_testing_rate_limit_error makes the first call a
 * 429 (so a retry answers). Neither is the deployment's fault: no cooldown, no upstream call.
 */
function mockedFailure(routing: RequestRouting, step: Step, model: string): Attempt<Sent> | undefined {
  if (step.fallback > 0) return undefined;
  if (routing.mock.fallbacks)
    return {
      ok: false,
      retryable: false,
      fallback: "general",
      cooldown: false,
      error: new ApiError(
        500,
        `This is a mock exception for model=${model}, to trigger a fallback (mock_testing_fallbacks)`,
        "internal_server_error",
      ),
    };
  if (routing.mock.rateLimit && step.retry === 0)
    return {
      ok: false,
      retryable: true,
      cooldown: false,
      error: new ApiError(429, `This is a mock rate limit error for model=${model} (mock_testing_rate_limit_error)`, "rate_limit_error"),
    };
  return undefined;
}

/** mock_timeout: the call waits out its timeout and times out, as a hung upstream would (LiteLLM's 408). */
async function mockedTimeout(deployment: Deployment, timeoutMs: number, signal: AbortSignal, asked: boolean): Promise<Attempt<Sent>> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
  if (signal.aborted) throw new ApiError(499, "client closed the request", "client_closed_request");
  const error = new ApiError(408, `upstream for ${deployment.name} timed out after ${timeoutMs / 1000}s (mock_timeout)`, "timeout");
  // Asked for by the request: not the deployment's fault. Set on the deployment: it is, as a real hang would be.
  return { ok: false, retryable: true, error, ...(asked ? { cooldown: false as const } : {}) };
}

/** One call to one deployment: its answer, or why it failed and whether another deployment is worth a try. */
async function tryDeployment(
  deps: ProxyDeps,
  op: Operation,
  deployment: Deployment,
  payload: Record<string, unknown>,
  call: { signal: AbortSignal; stream: boolean; timeoutMs: number },
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
    const response = await deps.upstream.post(deployment, wire, call.signal, call.stream, call.timeoutMs);
    if (response.status < 400) return { ok: true, value: { response } };
    const text = await response.body.text();
    const failureText = adapter.failure ? adapter.failure(response.status, text) : text;
    const fallback = fallbackKindOf(response.status, failureText);
    return { ok: false, retryable: RETRYABLE(response.status), value: { response, failureText }, ...(fallback ? { fallback } : {}) };
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
  const payload: Record<string, unknown> = { ...withoutRoutingFields(body), model: deployment.upstreamModel };
  if (stream) {
    const options = typeof payload.stream_options === "object" && payload.stream_options !== null ? payload.stream_options : {};
    payload.stream_options = { ...options, include_usage: true };
  }
  return payload;
}

/** The body without LiteLLM's own fields (`cache`, fallbacks, retries, mocks): tandem's to read; an upstream would refuse them as unknown parameters. */
function withoutRoutingFields(body: Record<string, unknown>): Record<string, unknown> {
  // Most bodies have none: no copy for them.
  if (!TANDEMS_FIELDS.some((field) => field in body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([field]) => !(TANDEMS_FIELDS as readonly string[]).includes(field)));
}

const TANDEMS_FIELDS = ["cache", ...ROUTING_FIELDS] as const;
