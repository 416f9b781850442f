import type { Deployment } from "../../config/model-config.js";
import { ApiError } from "../errors.js";
import { adapterFor } from "./providers/index.js";
import type { OperationPath } from "./providers/provider.js";
import type { UpstreamClient } from "./upstream-client.js";

/** LiteLLM's default bound on one deployment's health call (model_info.health_check_timeout overrides it). */
export const HEALTH_CHECK_TIMEOUT_MS = 60_000;

/** What one health call found: healthy, or the error the deployment answered (never its key). */
export type ProbeOutcome = { healthy: true } | { healthy: false; error: string };

/**
 * The smallest call of each mode, as LiteLLM's health check makes it: a chat
 * model is asked a one-line question with few tokens, an embedding model embeds
 * a few words, an image model draws one image (a real cost: LiteLLM's users
 * keep image models out with a team or a key that may not see them).
 */
const PROBES: Record<Deployment["mode"], { path: OperationPath; body: Record<string, unknown> }> = {
  chat: { path: "/chat/completions", body: { messages: [{ role: "user", content: "What's 1 + 1?" }], max_tokens: 16 } },
  completion: { path: "/completions", body: { prompt: "What's 1 + 1?", max_tokens: 16 } },
  embedding: { path: "/embeddings", body: { input: ["test from litellm"] } },
  image_generation: { path: "/images/generations", body: { prompt: "test from litellm", n: 1 } },
  moderation: { path: "/moderations", body: { input: "test from litellm" } },
};

/** The upstream model a health call asks for: a wildcard deployment needs model_info.health_check_model (its provider prefix optional). */
function probedModel(deployment: Deployment): string | undefined {
  const configured = deployment.healthCheckModel;
  if (configured) return configured.startsWith(`${deployment.provider}/`) ? configured.slice(deployment.provider.length + 1) : configured;
  return deployment.upstreamModel.includes("*") ? undefined : deployment.upstreamModel;
}

/** Calls one deployment with its mode's smallest request, bounded by its health_check_timeout; never throws. */
export async function probeDeployment(upstream: UpstreamClient, deployment: Deployment): Promise<ProbeOutcome> {
  const model = probedModel(deployment);
  if (model === undefined)
    return { healthy: false, error: "a wildcard deployment is checked with model_info.health_check_model, which is not set" };
  const probe = PROBES[deployment.mode];
  const adapter = adapterFor(deployment);
  if (!adapter.operations.includes(probe.path))
    return { healthy: false, error: `a ${deployment.provider}/ deployment cannot serve ${deployment.mode} calls` };
  const timeoutMs = deployment.healthCheckTimeoutMs ?? HEALTH_CHECK_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const wire = await adapter.request(deployment, probe.path, { ...probe.body, model }, false, undefined);
    // The deployment's own timeout bounds each wait, as on any call; health_check_timeout the whole call.
    const response = await upstream.post(deployment, wire, signal, false, Math.min(deployment.timeoutMs, timeoutMs));
    const text = await response.body.text();
    if (response.status < 400) return { healthy: true };
    const failure = adapter.failure ? adapter.failure(response.status, text) : text;
    return { healthy: false, error: withoutKey(`${response.status}: ${failure.slice(0, 500)}`, deployment) };
  } catch (error) {
    if (signal.aborted) return { healthy: false, error: `Health check timeout exceeded (${timeoutMs / 1000}s)` };
    const message = error instanceof ApiError ? error.message : `health call failed (${(error as Error).name})`;
    return { healthy: false, error: withoutKey(message, deployment) };
  }
}

/** An upstream may quote the key it was sent in its error; the error is shown to callers of /health. */
function withoutKey(text: string, deployment: Deployment): string {
  return deployment.apiKey && deployment.apiKey.length >= 8 ? text.replaceAll(deployment.apiKey, "[redacted]") : text;
}
