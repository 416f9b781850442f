/**
 * LiteLLM's `provider/model` prefixes tandem serves. Everything else is
 * refused at start, naming the entry: a config that starts and then fails
 * every call is worse than one that does not start.
 */
// Hosted services that speak OpenAI's API, where they are reached by default (LiteLLM's prefixes).
const HOSTED_OPENAI_COMPATIBLE: Record<string, string> = {
  openai: "https://api.openai.com/v1",
  groq: "https://api.groq.com/openai/v1",
  together_ai: "https://api.together.xyz/v1",
  deepseek: "https://api.deepseek.com/v1",
  mistral: "https://api.mistral.ai/v1",
  openrouter: "https://openrouter.ai/api/v1",
  fireworks_ai: "https://api.fireworks.ai/inference/v1",
  perplexity: "https://api.perplexity.ai",
  xai: "https://api.x.ai/v1",
  cerebras: "https://api.cerebras.ai/v1",
  deepinfra: "https://api.deepinfra.com/v1/openai",
};

/** Servers that speak OpenAI's API: the hosted ones above, and self-hosted ones (api_base required). */
export const OPENAI_COMPATIBLE = [
  ...Object.keys(HOSTED_OPENAI_COMPATIBLE),
  "text-completion-openai",
  "hosted_vllm",
  "vllm",
  "openai_like",
  "ollama",
  "ollama_chat",
  "lm_studio",
  "llamafile",
  "custom_openai",
  "litellm_proxy",
];
export const PROVIDERS = [...OPENAI_COMPATIBLE, "azure", "anthropic", "bedrock", "gemini", "vertex_ai"] as const;

/** Where a provider is reached when the entry gives no api_base (none: api_base is required); `region` is AWS's or Vertex AI's location. */
export function defaultApiBase(provider: string, region: string | undefined): string | undefined {
  if (HOSTED_OPENAI_COMPATIBLE[provider]) return HOSTED_OPENAI_COMPATIBLE[provider];
  if (provider === "text-completion-openai") return HOSTED_OPENAI_COMPATIBLE.openai;
  if (provider === "anthropic") return "https://api.anthropic.com";
  if (provider === "gemini") return "https://generativelanguage.googleapis.com";
  if (provider === "bedrock" && region) return `https://bedrock-runtime.${region}.amazonaws.com`;
  if (provider === "vertex_ai" && region)
    return region === "global" ? "https://aiplatform.googleapis.com" : `https://${region}-aiplatform.googleapis.com`;
  return undefined;
}

/** The operations a provider's adapter can translate (OpenAI-compatible servers and Azure take them all). */
export function chatOnly(provider: string): boolean {
  return provider === "anthropic" || provider === "bedrock" || provider === "gemini" || provider === "vertex_ai";
}

/** Azure's newest generally available api-version, when neither the entry nor AZURE_API_VERSION names one. */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";
