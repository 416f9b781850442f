import type { Deployment } from "../../../config/model-config.js";
import { ApiError } from "../../errors.js";
import type { ProviderAdapter } from "./provider.js";
import { SseTranslator } from "./sse-lines.js";
import { ChunkWriter, chatCompletion, openaiUsage } from "./openai-shapes.js";

/** The Messages API version tandem speaks (Anthropic's stable one). */
export const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic requires max_tokens; LiteLLM's default when the client gives none. */
const DEFAULT_MAX_TOKENS = 4096;

type Json = Record<string, unknown>;
interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}
interface OpenAIMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}
interface AnthropicBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

const FINISH: Record<string, string> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

const text = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part: { type?: string; text?: string }) => (part.type === "text" ? (part.text ?? "") : "")).join("")
      : "";

/** An OpenAI content part as an Anthropic content block (text, and images by data URL or URL). */
function block(part: { type?: string; text?: string; image_url?: { url?: string } | string }): Json {
  if (part.type === "text") return { type: "text", text: part.text ?? "" };
  if (part.type === "image_url") {
    const url = typeof part.image_url === "string" ? part.image_url : (part.image_url?.url ?? "");
    const data = /^data:([^;]+);base64,(.*)$/s.exec(url);
    return data
      ? { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } }
      : { type: "image", source: { type: "url", url } };
  }
  throw ApiError.badRequest(`messages: content part type ${JSON.stringify(part.type)} cannot be sent to an Anthropic model`, "messages");
}

const blocks = (content: unknown): Json[] =>
  typeof content === "string" ? [{ type: "text", text: content }] : Array.isArray(content) ? content.map(block) : [];

function parseArguments(args: string): unknown {
  try {
    return JSON.parse(args || "{}");
  } catch {
    throw ApiError.badRequest("messages: a tool call's function.arguments is not valid JSON", "messages");
  }
}

/**
 * OpenAI chat messages as Anthropic's: system messages lift into `system`,
 * assistant tool calls become tool_use blocks, tool messages tool_result
 * blocks in a user turn, and consecutive turns of one role merge (Anthropic
 * wants them alternating).
 */
export function toAnthropicMessages(messages: OpenAIMessage[]): { system?: string; messages: Json[] } {
  const system: string[] = [];
  const out: Array<{ role: string; content: Json[] }> = [];
  const push = (role: string, content: Json[]) => {
    const last = out.at(-1);
    if (last && last.role === role) last.content.push(...content);
    else out.push({ role, content });
  };
  for (const message of messages) {
    if (message.role === "system" || message.role === "developer") system.push(text(message.content));
    else if (message.role === "tool")
      push("user", [{ type: "tool_result", tool_use_id: message.tool_call_id ?? "", content: text(message.content) }]);
    else if (message.role === "assistant") {
      const calls = (message.tool_calls ?? []).map((call) => ({
        type: "tool_use",
        id: call.id,
        name: call.function.name,
        input: parseArguments(call.function.arguments),
      }));
      push("assistant", [...blocks(message.content).filter((b) => b.type !== "text" || b.text !== ""), ...calls]);
    } else push("user", blocks(message.content));
  }
  return { ...(system.length > 0 ? { system: system.join("\n\n") } : {}), messages: out };
}

function toolChoice(choice: unknown): Json | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "auto") return { type: "auto" };
  if (choice === "required") return { type: "any" };
  if (choice === "none") return { type: "none" };
  const name = (choice as { function?: { name?: string } }).function?.name;
  return name ? { type: "tool", name } : undefined;
}

/** An OpenAI chat completion request as an Anthropic Messages request. */
export function toAnthropicRequest(payload: Json, model: string, stream: boolean): Json {
  const { system, messages } = toAnthropicMessages((payload.messages ?? []) as OpenAIMessage[]);
  const tools = (payload.tools as Array<{ function: { name: string; description?: string; parameters?: unknown } }> | undefined)?.map(
    (tool) => ({
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: "object", properties: {} },
    }),
  );
  const stop = payload.stop === undefined || payload.stop === null ? undefined : [payload.stop].flat();
  const choice = toolChoice(payload.tool_choice);
  return {
    model,
    max_tokens: payload.max_completion_tokens ?? payload.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system !== undefined ? { system } : {}),
    ...(payload.temperature !== undefined ? { temperature: payload.temperature } : {}),
    ...(payload.top_p !== undefined ? { top_p: payload.top_p } : {}),
    ...(stop ? { stop_sequences: stop } : {}),
    ...(tools ? { tools } : {}),
    ...(choice ? { tool_choice: choice } : {}),
    ...(typeof payload.user === "string" ? { metadata: { user_id: payload.user } } : {}),
    ...(stream ? { stream: true } : {}),
  };
}

// Anthropic counts cached prompt tokens apart from input_tokens.
const usageFrom = (usage: Partial<AnthropicUsage>) =>
  openaiUsage(
    usage.input_tokens ?? 0,
    usage.cache_read_input_tokens ?? 0,
    usage.cache_creation_input_tokens ?? 0,
    usage.output_tokens ?? 0,
  );

/** An Anthropic message as an OpenAI chat completion. */
export function fromAnthropicMessage(message: Json, created = Math.floor(Date.now() / 1000)): Json {
  const content = (message.content ?? []) as AnthropicBlock[];
  const said = content.filter((b) => b.type === "text").map((b) => b.text ?? "");
  const calls = content
    .filter((b) => b.type === "tool_use")
    .map((b) => ({ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) }));
  return chatCompletion({
    id: String(message.id),
    created,
    model: message.model,
    text: said,
    calls,
    finish: FINISH[String(message.stop_reason)] ?? "stop",
    usage: usageFrom((message.usage ?? {}) as Json),
  });
}

/**
 * Anthropic's stream events as OpenAI chunks: text deltas as content,
 * tool_use blocks as tool_calls (arguments streamed as they come), the stop
 * reason as finish_reason, and a usage-only chunk at the end (the relay
 * charges from it and passes it on only to clients that asked).
 */
export class AnthropicStream extends SseTranslator {
  private readonly out = new ChunkWriter("", "");
  private usage: AnthropicUsage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
  /** Anthropic content block index → OpenAI tool_calls index. */
  private readonly tools = new Map<number, number>();

  protected translate(data: string): string {
    const event = this.json(data);
    if (!event) return "";
    switch (event.type) {
      case "message_start": {
        const message = event.message as { id: string; model: string; usage?: Partial<AnthropicUsage> };
        this.out.id = message.id;
        this.out.model = message.model;
        this.usage = { ...this.usage, ...message.usage };
        return this.out.delta({ role: "assistant", content: "" });
      }
      case "content_block_start": {
        const started = event.content_block as AnthropicBlock;
        if (started.type !== "tool_use") return "";
        const index = this.tools.size;
        this.tools.set(Number(event.index), index);
        return this.out.delta({
          tool_calls: [{ index, id: started.id, type: "function", function: { name: started.name, arguments: "" } }],
        });
      }
      case "content_block_delta": {
        const delta = event.delta as { type: string; text?: string; partial_json?: string };
        if (delta.type === "text_delta") return this.out.delta({ content: delta.text ?? "" });
        if (delta.type === "input_json_delta") {
          const index = this.tools.get(Number(event.index)) ?? 0;
          return this.out.delta({ tool_calls: [{ index, function: { arguments: delta.partial_json ?? "" } }] });
        }
        return "";
      }
      case "message_delta": {
        const usage = event.usage as Partial<AnthropicUsage> | undefined;
        if (usage) this.usage = { ...this.usage, ...Object.fromEntries(Object.entries(usage).filter(([, v]) => typeof v === "number")) };
        const stop = (event.delta as { stop_reason?: string } | undefined)?.stop_reason;
        return stop ? this.out.delta({}, FINISH[stop] ?? "stop") : "";
      }
      case "message_stop":
        return this.out.done(usageFrom(this.usage));
      case "error": {
        const error = event.error as { type?: string; message?: string } | undefined;
        return `data: ${JSON.stringify({ error: { message: error?.message ?? "error", type: error?.type ?? "api_error", param: null, code: "500" } })}\n\n`;
      }
      default:
        return "";
    }
  }
}

/** Anthropic's error body ({type: "error", error: {type, message}}) in LiteLLM's shape, with the provider's status. */
export function anthropicFailure(status: number, text: string): string {
  let error: { type?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  return JSON.stringify({
    error: {
      message: `AnthropicException - ${error?.message ?? text.slice(0, 500)}`,
      type: error?.type ?? "api_error",
      param: null,
      code: String(status),
    },
  });
}

/** Anthropic's Messages API, for OpenAI chat clients. */
export const anthropic: ProviderAdapter = {
  operations: ["/chat/completions"],
  request(deployment: Deployment, _operation, payload, stream, native) {
    return {
      path: "/v1/messages",
      headers: {
        "anthropic-version": ANTHROPIC_VERSION,
        ...native?.headers,
        ...(deployment.apiKey ? { "x-api-key": deployment.apiKey } : {}),
      },
      body: JSON.stringify(native?.body ?? toAnthropicRequest(payload, deployment.upstreamModel, stream)),
    };
  },
  answer: (text) => JSON.stringify(fromAnthropicMessage(JSON.parse(text) as Json)),
  stream: () => new AnthropicStream(),
  failure: anthropicFailure,
};
