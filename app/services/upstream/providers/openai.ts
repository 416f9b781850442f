import type { ProviderAdapter } from "./provider.js";

/** OpenAI and every server that speaks its API (vLLM, Ollama's /v1, LM Studio, another LiteLLM…): the body as it is. */
export const openaiCompatible: ProviderAdapter = {
  operations: ["/chat/completions", "/completions", "/embeddings", "/images/generations", "/moderations"],
  request(deployment, operation, payload, _stream, native) {
    return {
      path: native?.path ?? operation,
      headers: deployment.apiKey ? { authorization: `Bearer ${deployment.apiKey}` } : ({} as Record<string, string>),
      body: JSON.stringify(native?.body ?? payload),
    };
  },
};
