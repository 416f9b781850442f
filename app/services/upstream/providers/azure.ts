import type { ProviderAdapter } from "./provider.js";

/**
 * Azure OpenAI: OpenAI's bodies and answers, at
 * /openai/deployments/{deployment}/{operation}?api-version=…, with the key
 * in `api-key`. LiteLLM's `azure/<deployment>` names the Azure deployment,
 * not the model. The Responses API is Azure's v1 API (`/openai/v1/responses`,
 * no api-version): the preview versions it had before are not every
 * resource's, and a config's chat api_version usually predates it.
 */
export const azure: ProviderAdapter = {
  operations: ["/chat/completions", "/completions", "/embeddings", "/images/generations"],
  request(deployment, operation, payload, _stream, native) {
    const headers = deployment.apiKey ? { "api-key": deployment.apiKey } : ({} as Record<string, string>);
    if (native?.path) return { path: `/openai/v1${native.path}`, headers, body: JSON.stringify(native.body) };
    const name = encodeURIComponent(deployment.upstreamModel);
    const version = encodeURIComponent(deployment.apiVersion ?? "");
    return {
      path: `/openai/deployments/${name}${operation}?api-version=${version}`,
      headers,
      body: JSON.stringify(payload),
    };
  },
};
