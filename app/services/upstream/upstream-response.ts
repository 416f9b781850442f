import type { Usage } from "../billing/spend.js";

type ReportedUsage = Partial<Usage> & {
  input_tokens?: number;
  output_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  /** The Responses API's name for prompt_tokens_details. */
  input_tokens_details?: { cached_tokens?: number };
  /** LiteLLM's name for the prompt tokens written to a provider's cache. */
  cache_creation_input_tokens?: number;
};

/**
 * `usage` of a completion, an embedding (no completion tokens), an image
 * generation or a response (OpenAI's images and Responses APIs name them
 * input_tokens/output_tokens).
 */
export function usageOf(value: unknown): Usage | undefined {
  const usage = (value as { usage?: ReportedUsage } | undefined)?.usage;
  const prompt = usage?.prompt_tokens ?? usage?.input_tokens;
  if (!usage || typeof prompt !== "number") return undefined;
  const reported = usage.completion_tokens ?? usage.output_tokens;
  const completion = typeof reported === "number" ? reported : 0;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens;
  const created = usage.cache_creation_input_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : prompt + completion,
    ...(typeof cached === "number" && cached > 0 ? { cached_tokens: cached } : {}),
    ...(typeof created === "number" && created > 0 ? { cache_creation_tokens: created } : {}),
  };
}

/** How many images an images-API answer holds. */
export function imagesOf(value: unknown): number {
  const data = (value as { data?: unknown } | undefined)?.data;
  return Array.isArray(data) ? data.length : 0;
}

/** The upstream's response id (`chatcmpl-…`), when it sent a usable one. */
export function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && /^[\w.:-]{1,200}$/.test(id) ? id : undefined;
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
