/**
 * LiteLLM's `provider/model` prefixes tandem serves. Everything else is
 * refused at start, naming the entry: a config that starts and then fails
 * every call is worse than one that does not start.
 */
export const OPENAI_COMPATIBLE = [
  "openai",
  "hosted_vllm",
  "openai_like",
  "ollama",
  "ollama_chat",
  "lm_studio",
  "custom_openai",
  "litellm_proxy",
];
export const PROVIDERS = [...OPENAI_COMPATIBLE, "azure", "anthropic", "bedrock"] as const;

/** Where a provider is reached when the entry gives no api_base (none: api_base is required). */
export function defaultApiBase(provider: string, awsRegion: string | undefined): string | undefined {
  if (provider === "openai") return "https://api.openai.com/v1";
  if (provider === "anthropic") return "https://api.anthropic.com";
  if (provider === "bedrock" && awsRegion) return `https://bedrock-runtime.${awsRegion}.amazonaws.com`;
  return undefined;
}

/** The operations a provider's adapter can translate (OpenAI-compatible servers and Azure take them all). */
export function chatOnly(provider: string): boolean {
  return provider === "anthropic" || provider === "bedrock";
}

/** Azure's newest generally available api-version, when neither the entry nor AZURE_API_VERSION names one. */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";
