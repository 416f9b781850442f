import type { Usage } from "../billing/spend.js";

/** `usage` of a completion or an embedding response (embeddings report no completion tokens). */
export function usageOf(value: unknown): Usage | undefined {
  const usage = (value as { usage?: Partial<Usage> } | undefined)?.usage;
  if (!usage || typeof usage.prompt_tokens !== "number") return undefined;
  const completion = typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: completion,
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : usage.prompt_tokens + completion,
  };
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
