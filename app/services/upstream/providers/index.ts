import type { Deployment } from "../../../config/model-config.js";
import { anthropic } from "./anthropic.js";
import { azure } from "./azure.js";
import { bedrock } from "./bedrock.js";
import { gemini } from "./gemini.js";
import { openaiCompatible } from "./openai.js";
import { vertex } from "./vertex.js";
import type { ProviderAdapter } from "./provider.js";

const ADAPTERS: Record<string, ProviderAdapter> = { azure, anthropic, bedrock, gemini, vertex_ai: vertex };

/** The adapter that speaks this deployment's provider (any prefix the config accepted and not listed is OpenAI-compatible). */
export function adapterFor(deployment: Deployment): ProviderAdapter {
  return ADAPTERS[deployment.provider] ?? openaiCompatible;
}
