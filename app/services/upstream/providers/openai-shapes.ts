// OpenAI's chat shapes, as the adapters of providers that speak another
// format build them: one answer, and the stream's chunks.
type Json = Record<string, unknown>;

export interface ToolCall {
  id: string | undefined;
  name: string | undefined;
  arguments: string;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  /** LiteLLM's field for the prompt tokens written to the provider's cache. */
  cache_creation_input_tokens?: number;
}

/**
 * OpenAI's usage from a provider's counts: OpenAI's prompt_tokens include the cached ones, which
 * it details; those written to the cache (Anthropic, Bedrock) go in LiteLLM's own field. Each is
 * billed at its own price.
 */
export function openaiUsage(fresh: number, cacheRead: number, cacheWrite: number, completion: number): OpenAIUsage {
  const prompt = fresh + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cacheRead > 0 ? { prompt_tokens_details: { cached_tokens: cacheRead } } : {}),
    ...(cacheWrite > 0 ? { cache_creation_input_tokens: cacheWrite } : {}),
  };
}

/** A chat.completion: the text (null when there is none), the tool calls, why it stopped, the usage. */
export function chatCompletion(answer: {
  id: string;
  created: number;
  model: unknown;
  text: string[];
  calls: ToolCall[];
  finish: string;
  usage: OpenAIUsage;
}): Json {
  const calls = answer.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  return {
    id: answer.id,
    object: "chat.completion",
    created: answer.created,
    model: answer.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: answer.text.length > 0 ? answer.text.join("") : null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        finish_reason: answer.finish,
      },
    ],
    usage: answer.usage,
  };
}

/** Writes one stream's chat.completion.chunk events, all under the stream's id, time and model. */
export class ChunkWriter {
  constructor(
    public id: string,
    public model: string,
    private readonly created = Math.floor(Date.now() / 1000),
  ) {}

  delta(delta: Json, finish: string | null = null): string {
    return this.data({ choices: [{ index: 0, delta, finish_reason: finish }] });
  }

  /** The usage-only chunk and the end of the stream. */
  done(usage: OpenAIUsage): string {
    return `${this.data({ choices: [], usage })}data: [DONE]\n\n`;
  }

  private data(rest: Json): string {
    return `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, ...rest })}\n\n`;
  }
}
