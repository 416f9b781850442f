import type { ProviderAdapter } from "./provider.js";

/**
 * Azure OpenAI: OpenAI's bodies and answers, at
 * /openai/deployments/{deployment}/{operation}?api-version=…, with the key
 * in `api-key`. LiteLLM's `azure/<deployment>` names the Azure deployment,
 * not the model.
 */
export const azure: ProviderAdapter = {
  operations: ["/chat/completions", "/completions", "/embeddings", "/images/generations"],
  request(deployment, operation, payload) {
    const name = encodeURIComponent(deployment.upstreamModel);
    const version = encodeURIComponent(deployment.apiVersion ?? "");
    return {
      path: `/openai/deployments/${name}${operation}?api-version=${version}`,
      headers: deployment.apiKey ? { "api-key": deployment.apiKey } : ({} as Record<string, string>),
      body: JSON.stringify(payload),
    };
  },
};
