// Anthropic's Messages API as a client format: clients that speak it (the
// Anthropic SDK, Claude Code) are served by any model group. Their request
// becomes the pipeline's own shape (an OpenAI chat request) and the answer
// goes back as a Messages answer; a deployment that speaks Anthropic itself
// gets the client's body and bytes as they are (ClientFormat.speaks).
import { ApiError } from "../../errors.js";
import { SseTranslator } from "../providers/sse-lines.js";
import type { ClientFormat } from "./client-format.js";

type Json = Record<string, unknown>;
export interface AnthropicBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  source?: { type: string; media_type?: string; data?: string; url?: string };
}
export interface AnthropicRequest {
  model: string;
  max_tokens?: number;
  messages: Array<{ role: "user" | "assistant"; content: string | AnthropicBlock[] }>;
  system?: string | Array<{ type: string; text?: string }>;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: Array<{ name: string; type?: string; description?: string; input_schema?: unknown }>;
  tool_choice?: { type: string; name?: string };
  metadata?: { user_id?: string };
}

type ChatUsage = {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  cache_creation_input_tokens?: number;
};

/** OpenAI's usage as Anthropic counts it: input_tokens without the cached ones, which it names apart. */
function messagesUsage(usage: ChatUsage): Json {
  const read = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage.prompt_tokens ?? 0) - read - written),
    output_tokens: usage.completion_tokens ?? 0,
    ...(read > 0 ? { cache_read_input_tokens: read } : {}),
    ...(written > 0 ? { cache_creation_input_tokens: written } : {}),
  };
}

const STOP_REASON: Record<string, string> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", content_filter: "refusal" };

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((b: AnthropicBlock) => (b.type === "text" ? (b.text ?? "") : "")).join("")
      : "";

function part(block: AnthropicBlock, index: number): Json {
  if (block.type === "text") return { type: "text", text: block.text ?? "" };
  if (block.type === "image" && block.source?.type === "base64")
    return { type: "image_url", image_url: { url: `data:${block.source.media_type};base64,${block.source.data}` } };
  if (block.type === "image" && block.source?.type === "url") return { type: "image_url", image_url: { url: block.source.url } };
  throw ApiError.badRequest(
    `messages: content block ${index} of type ${JSON.stringify(block.type)} is not supported for this model`,
    "messages",
  );
}

/** A Messages request as an OpenAI chat request (tool results become tool messages, tool_use blocks tool_calls). */
export function messagesToChat(request: AnthropicRequest): Json {
  const messages: Json[] = [];
  if (request.system !== undefined) messages.push({ role: "system", content: textOf(request.system) });
  for (const message of request.messages) {
    const blocks: AnthropicBlock[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    if (message.role === "assistant") {
      const calls = blocks
        .filter((b) => b.type === "tool_use")
        .map((b) => ({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
      const said = blocks.filter((b) => b.type === "text").map((b) => b.text ?? "");
      messages.push({
        role: "assistant",
        content: said.length > 0 ? said.join("") : null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      });
      continue;
    }
    for (const result of blocks.filter((b) => b.type === "tool_result"))
      messages.push({ role: "tool", tool_call_id: result.tool_use_id, content: textOf(result.content) });
    const rest = blocks.filter((b) => b.type !== "tool_result");
    // Text alone goes as a plain string: every OpenAI-compatible server takes that; not all take parts.
    if (rest.length > 0) messages.push({ role: "user", content: rest.every((b) => b.type === "text") ? textOf(rest) : rest.map(part) });
  }
  const choice = request.tool_choice;
  const serverTool = request.tools?.find((t) => t.input_schema === undefined && t.type !== undefined && t.type !== "custom");
  if (serverTool)
    throw ApiError.badRequest(
      `tools: ${serverTool.name} (${String(serverTool.type)}) is one of Anthropic's server tools: only anthropic/ deployments run it`,
      "tools",
    );
  return {
    model: request.model,
    messages,
    ...(request.max_tokens !== undefined ? { max_tokens: request.max_tokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.top_p !== undefined ? { top_p: request.top_p } : {}),
    ...(request.stop_sequences ? { stop: request.stop_sequences } : {}),
    ...(request.tools
      ? {
          tools: request.tools.map((t) => ({
            type: "function",
            function: {
              name: t.name,
              ...(t.description ? { description: t.description } : {}),
              parameters: t.input_schema ?? { type: "object" },
            },
          })),
        }
      : {}),
    ...(choice
      ? {
          tool_choice:
            choice.type === "any"
              ? "required"
              : choice.type === "tool"
                ? { type: "function", function: { name: choice.name } }
                : choice.type,
        }
      : {}),
    ...(request.metadata?.user_id ? { user: request.metadata.user_id } : {}),
    ...(request.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

function parsedArguments(args: string): unknown {
  try {
    return JSON.parse(args || "{}");
  } catch {
    return { raw: args };
  }
}

/** An OpenAI chat completion as a Messages answer. */
export function chatToMessage(completion: Json, model: string): Json {
  const choice = (completion.choices as Array<{ message?: Json; finish_reason?: string }> | undefined)?.[0];
  const message = (choice?.message ?? {}) as {
    content?: string | null;
    tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  };
  const usage = (completion.usage ?? {}) as ChatUsage;
  const content = [
    ...(message.content ? [{ type: "text", text: message.content }] : []),
    ...(message.tool_calls ?? []).map((c) => ({
      type: "tool_use",
      id: c.id,
      name: c.function.name,
      input: parsedArguments(c.function.arguments),
    })),
  ];
  return {
    id: `msg_${String(completion.id ?? "").replace(/^chatcmpl-/, "")}`,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: STOP_REASON[choice?.finish_reason ?? "stop"] ?? "end_turn",
    stop_sequence: null,
    usage: messagesUsage(usage),
  };
}

/**
 * OpenAI chunks as Anthropic's stream events: a text block while text comes,
 * a tool_use block per tool call (its arguments as input_json_delta), the
 * stop reason and usage in message_delta once the upstream says [DONE].
 * A stream cut short ends without message_stop, so the client knows.
 */
export class ChatToMessagesStream extends SseTranslator {
  private started = false;
  private index = -1;
  private open: "text" | "tool" | undefined;
  private readonly tools = new Map<number, number>();
  private stopReason = "end_turn";
  private usage: Json = { input_tokens: 0, output_tokens: 0 };

  constructor(private readonly model: string) {
    super();
  }

  private event(type: string, data: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  }

  private close(): string {
    if (!this.open) return "";
    this.open = undefined;
    return this.event("content_block_stop", { index: this.index });
  }

  private start(id: string): string {
    if (this.started) return "";
    this.started = true;
    const message = {
      id: `msg_${id.replace(/^chatcmpl-/, "")}`,
      type: "message",
      role: "assistant",
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return this.event("message_start", { message });
  }

  protected translate(data: string): string {
    if (data === "[DONE]") {
      return (
        this.start("") +
        this.close() +
        this.event("message_delta", { delta: { stop_reason: this.stopReason, stop_sequence: null }, usage: this.usage }) +
        this.event("message_stop", {})
      );
    }
    const chunk = this.json(data);
    if (!chunk) return "";
    if (chunk.error) {
      const error = chunk.error as { message?: string; type?: string };
      return this.event("error", { error: { type: error.type ?? "api_error", message: error.message ?? "error" } });
    }
    let out = this.start(String(chunk.id ?? ""));
    const usage = chunk.usage as ChatUsage | undefined;
    if (usage) this.usage = messagesUsage(usage);
    const choice = (chunk.choices as Array<{ delta?: Json; finish_reason?: string | null }> | undefined)?.[0];
    if (!choice) return out;
    const delta = (choice.delta ?? {}) as {
      content?: string | null;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    if (delta.content) {
      if (this.open !== "text") {
        out += this.close();
        this.open = "text";
        out += this.event("content_block_start", { index: ++this.index, content_block: { type: "text", text: "" } });
      }
      out += this.event("content_block_delta", { index: this.index, delta: { type: "text_delta", text: delta.content } });
    }
    for (const call of delta.tool_calls ?? []) {
      if (call.id) {
        out += this.close();
        this.open = "tool";
        this.tools.set(call.index, ++this.index);
        out += this.event("content_block_start", {
          index: this.index,
          content_block: { type: "tool_use", id: call.id, name: call.function?.name ?? "", input: {} },
        });
      }
      if (call.function?.arguments)
        out += this.event("content_block_delta", {
          index: this.tools.get(call.index) ?? this.index,
          delta: { type: "input_json_delta", partial_json: call.function.arguments },
        });
    }
    if (choice.finish_reason) this.stopReason = STOP_REASON[choice.finish_reason] ?? "end_turn";
    return out;
  }
}

/** Anthropic's Messages API, served by any model group. */
export const anthropicMessages: ClientFormat<AnthropicRequest> = {
  speaks: (deployment) => deployment.provider === "anthropic",
  toChat: messagesToChat,
  answer: (completion, model) => JSON.stringify(chatToMessage(JSON.parse(completion) as Json, model)),
  stream: (model) => new ChatToMessagesStream(model),
  streamError: (message) => `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: "api_error", message } })}\n\n`,
};
