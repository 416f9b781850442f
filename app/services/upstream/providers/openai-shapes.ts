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
