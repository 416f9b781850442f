// Google's Vertex AI (LiteLLM's vertex_ai/ prefix) for Gemini models: the same generateContent body
// and answers as the Gemini API, at the project's and location's publisher path, called with an
// access token of the deployment's service account.
import type { ProviderAdapter } from "./provider.js";
import { gemini, googleFailure, toGeminiRequest } from "./gemini.js";
import { googleAccessToken } from "./google-credentials.js";
import { ApiError } from "../../errors.js";

/** Gemini's adapter at another address, with another credential. */
export const vertex: ProviderAdapter = {
  ...gemini,
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
  failure: googleFailure("VertexAIException"),
};
