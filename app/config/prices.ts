import { calcPrice, findProvider } from "@pydantic/genai-prices";

/**
 * What one deployment's calls cost, resolved once at startup (looking a model
 * up in the price database costs ~0.1 ms: too much per request).
 */
export interface Price {
  inputPerToken: number;
  outputPerToken: number;
  /** Prompt tokens read from the provider's cache (absent: the input price). */
  cacheReadPerToken?: number;
  /** Prompt tokens written to the provider's cache (absent: the input price). */
  cacheWritePerToken?: number;
  /** Per generated image, for image models priced per image (LiteLLM's output_cost_per_image). */
  perImage?: number;
  /** Long-context pricing: from this many prompt tokens, the whole call is billed at these rates. */
  longContext?: {
    fromPromptTokens: number;
    inputPerToken: number;
    outputPerToken: number;
    cacheReadPerToken?: number;
    cacheWritePerToken?: number;
  };
  /** Where the price came from: the config, the price database (its model id), or nowhere. */
  source: "config" | "genai-prices" | "openai-image-prices" | "unknown";
  /** The price database's model id, when it priced the model. */
  matched?: string;
}

/** The prices a model_list entry sets itself (LiteLLM's model_info / litellm_params names). */
export interface ConfiguredPrice {
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  cache_read_input_token_cost?: number;
  cache_creation_input_token_cost?: number;
  output_cost_per_image?: number;
}

// LiteLLM's provider prefixes → the price database's provider ids. Self-hosted
// OpenAI-compatible servers (hosted_vllm/, ollama/, openai_like/) have no list price.
// OpenAI's published per-image prices (standard quality, 1024×1024) for the image models the
// price database does not carry; the config's output_cost_per_image wins.
const IMAGE_PRICES: Record<string, number> = { "dall-e-2": 0.02, "dall-e-3": 0.04 };

const PRICED_PROVIDERS: Record<string, string> = {
  openai: "openai",
  "text-completion-openai": "openai",
  azure: "azure",
  anthropic: "anthropic",
  bedrock: "aws",
  gemini: "google",
  vertex_ai: "google",
  groq: "groq",
  together_ai: "together",
  deepseek: "deepseek",
  mistral: "mistral",
  openrouter: "openrouter",
  fireworks_ai: "fireworks",
  perplexity: "perplexity",
  xai: "x-ai",
  cerebras: "cerebras",
};

type Tiered = number | { base: number; tiers: Array<{ start: number; price: number }> } | undefined;

const perToken = (mtok: Tiered, tier?: number): number => {
  if (mtok === undefined) return 0;
  if (typeof mtok === "number") return mtok / 1e6;
  const chosen = tier === undefined ? mtok.base : (mtok.tiers.find((t) => t.start === tier)?.price ?? mtok.base);
  return chosen / 1e6;
};

/**
 * Config prices win (as in LiteLLM); otherwise the model is looked up in
 * @pydantic/genai-prices under its provider; otherwise it is free, and the
 * caller is told (`source: "unknown"`) so it can say so once at startup.
 */
export function resolvePrice(provider: string, model: string, configured: ConfiguredPrice): Price {
  const { input_cost_per_token: input, output_cost_per_token: output } = configured;
  const listedImagePrice = provider === "openai" || provider === "azure" ? IMAGE_PRICES[model] : undefined;
  // An image model's per-image price applies even where the config priced its tokens (as LiteLLM's price map does).
  const perImage = configured.output_cost_per_image ?? listedImagePrice;
  const image = perImage !== undefined ? { perImage } : {};
  if (input !== undefined || output !== undefined || configured.output_cost_per_image !== undefined)
    return {
      inputPerToken: input ?? 0,
      outputPerToken: output ?? 0,
      ...(configured.cache_read_input_token_cost !== undefined ? { cacheReadPerToken: configured.cache_read_input_token_cost } : {}),
      ...(configured.cache_creation_input_token_cost !== undefined
        ? { cacheWritePerToken: configured.cache_creation_input_token_cost }
        : {}),
      ...image,
      source: "config",
    };
  if (listedImagePrice !== undefined) return { inputPerToken: 0, outputPerToken: 0, ...image, source: "openai-image-prices" };
  const found = listing(provider, model);
  if (!found) return { inputPerToken: 0, outputPerToken: 0, source: "unknown" };
  const prices = found.model_price as { input_mtok?: Tiered; output_mtok?: Tiered; cache_read_mtok?: Tiered; cache_write_mtok?: Tiered };
  const cache = (tier?: number) => ({
    ...(prices.cache_read_mtok !== undefined ? { cacheReadPerToken: perToken(prices.cache_read_mtok, tier) } : {}),
    ...(prices.cache_write_mtok !== undefined ? { cacheWritePerToken: perToken(prices.cache_write_mtok, tier) } : {}),
  });
  const tierStart = [prices.input_mtok, prices.output_mtok].flatMap((p) => (typeof p === "object" ? p.tiers.map((t) => t.start) : []))[0];
  return {
    inputPerToken: perToken(prices.input_mtok),
    outputPerToken: perToken(prices.output_mtok),
    ...cache(),
    ...(tierStart !== undefined
      ? {
          longContext: {
            fromPromptTokens: tierStart,
            inputPerToken: perToken(prices.input_mtok, tierStart),
            outputPerToken: perToken(prices.output_mtok, tierStart),
            ...cache(tierStart),
          },
        }
      : {}),
    source: "genai-prices",
    matched: found.model.id,
  };
}

/** The model's context window as the price database knows it (prompt and answer together), if it does. */
export function contextWindow(provider: string, model: string): number | undefined {
  return listing(provider, model)?.model.context_window ?? undefined;
}

/** The model ids the price database lists under a LiteLLM provider prefix (none for a provider it does not list). */
export function knownModels(provider: string): string[] {
  const providerId = PRICED_PROVIDERS[provider];
  return providerId ? (findProvider({ providerId })?.models.map((m) => m.id) ?? []) : [];
}

/** The price database's entry for a model of a provider it lists (null: not listed). */
function listing(provider: string, model: string) {
  const providerId = PRICED_PROVIDERS[provider];
  return providerId ? calcPrice({ input_tokens: 1, output_tokens: 1 }, model, { providerId }) : null;
}
