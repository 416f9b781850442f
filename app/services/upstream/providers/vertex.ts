// Google's Vertex AI (LiteLLM's vertex_ai/ prefix) for Gemini models: the same generateContent body
// and answers as the Gemini API, at the project's and location's publisher path, called with an
// access token of the deployment's service account.
import type { ProviderAdapter } from "./provider.js";
import { GeminiStream, fromGeminiResponse, googleFailure, toGeminiRequest } from "./gemini.js";
import { googleAccessToken } from "./google-credentials.js";
import { ApiError } from "../../errors.js";

export const vertex: ProviderAdapter = {
  operations: ["/chat/completions"],
  async request(deployment, _operation, payload, stream) {
    const { project, location, key } = deployment.vertex!;
    const model = encodeURIComponent(deployment.upstreamModel);
    let token: string;
    try {
      token = await googleAccessToken(key)();
    } catch (error) {
      // Another deployment may have working credentials: a retryable upstream failure, not the client's.
      throw new ApiError(
        502,
        `vertex_ai deployment ${deployment.name}: Google credentials unavailable (${(error as Error).message})`,
        "upstream_error",
      );
    }
    return {
      path: `/v1/projects/${encodeURIComponent(project)}/locations/${location}/publishers/google/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(toGeminiRequest(payload)),
    };
  },
  answer: (text, deployment) => JSON.stringify(fromGeminiResponse(JSON.parse(text) as Record<string, unknown>, deployment.upstreamModel)),
  stream: (deployment) => new GeminiStream(deployment.upstreamModel),
  failure: googleFailure("VertexAIException"),
};
