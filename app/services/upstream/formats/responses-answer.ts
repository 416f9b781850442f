// A chat answer as a Responses API answer: for clients of the Responses API
// served by a deployment that does not speak it. The stream becomes the
// API's typed events — an output item per message or function call, text
// and arguments as deltas, the whole response again in response.completed —
// numbered by sequence_number as OpenAI numbers them.
import { SseTranslator } from "../providers/sse-lines.js";

type Json = Record<string, unknown>;
type ChatUsage = {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
};
type ToolCall = { id: string; function: { name: string; arguments: string } };

export function responsesUsage(usage: ChatUsage | undefined): Json {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  };
}

const responseIdOf = (chatId: unknown) => `resp_${String(chatId ?? "").replace(/^chatcmpl-/, "") || Date.now().toString(36)}`;
const messageItem = (id: string, text: string, status: string): Json => ({
  id: `msg_${id.slice(5)}`,
  type: "message",
  status,
  role: "assistant",
  content: status === "completed" ? [{ type: "output_text", text, annotations: [] }] : [],
});
const callItem = (call: ToolCall, status: string): Json => ({
  id: `fc_${call.id}`,
  type: "function_call",
  status,
  call_id: call.id,
  name: call.function.name,
  arguments: call.function.arguments,
});

/** The response object with the fields the OpenAI SDKs read, for what a chat answer holds. */
function response(id: string, model: string, created: number, output: Json[], usage: Json | null, finish: string | undefined): Json {
  const cut = finish === "length";
  return {
    id,
    object: "response",
    created_at: created,
    status: usage === null ? "in_progress" : cut ? "incomplete" : "completed",
    error: null,
    incomplete_details: cut ? { reason: "max_output_tokens" } : null,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: null,
    truncation: "disabled",
    usage,
    metadata: {},
  };
}

/** An OpenAI chat completion as a Responses API response. */
export function chatToResponse(completion: Json, model: string): Json {
  const choice = (completion.choices as Array<{ message?: Json; finish_reason?: string }> | undefined)?.[0];
  const message = (choice?.message ?? {}) as { content?: string | null; tool_calls?: ToolCall[] };
  const id = responseIdOf(completion.id);
  const output = [
    ...(message.content ? [messageItem(id, message.content, "completed")] : []),
    ...(message.tool_calls ?? []).map((call) => callItem(call, "completed")),
  ];
  const created = typeof completion.created === "number" ? completion.created : Math.floor(Date.now() / 1000);
  return response(id, model, created, output, responsesUsage(completion.usage as ChatUsage | undefined), choice?.finish_reason);
}

/**
 * OpenAI chat chunks as the Responses API's stream. A stream cut short ends
 * without response.completed, so the client knows it is incomplete.
 */
export class ChatToResponsesStream extends SseTranslator {
  private sequence = 0;
  private id: string | undefined;
  private created = Math.floor(Date.now() / 1000);
  private readonly output: Json[] = [];
  private text: { index: number; item: Json; text: string } | undefined;
  private readonly calls = new Map<number, { index: number; call: ToolCall }>();
  private usage: ChatUsage | undefined;
  private finish: string | undefined;

  constructor(private readonly model: string) {
    super();
  }

  private event(type: string, data: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...data })}\n\n`;
  }

  private start(chatId: unknown): string {
    if (this.id) return "";
    this.id = responseIdOf(chatId);
    const started = response(this.id, this.model, this.created, [], null, undefined);
    return this.event("response.created", { response: started }) + this.event("response.in_progress", { response: started });
  }

  /** Ends the message item being written, if one is. */
  private closeText(): string {
    if (!this.text) return "";
    const { index, item, text } = this.text;
    this.text = undefined;
    const part = { type: "output_text", text, annotations: [] };
    const done = { ...item, status: "completed", content: [part] };
    this.output[index] = done;
    const at = { item_id: item.id, output_index: index, content_index: 0 };
    return (
      this.event("response.output_text.done", { ...at, text }) +
      this.event("response.content_part.done", { ...at, part }) +
      this.event("response.output_item.done", { output_index: index, item: done })
    );
  }

  private closeCalls(): string {
    let out = "";
    for (const { index, call } of this.calls.values()) {
      const item = callItem(call, "completed");
      this.output[index] = item;
      out +=
        this.event("response.function_call_arguments.done", { item_id: item.id, output_index: index, arguments: call.function.arguments }) +
        this.event("response.output_item.done", { output_index: index, item });
    }
    this.calls.clear();
    return out;
  }

  protected translate(data: string): string {
    if (data === "[DONE]") {
      const out = this.start("") + this.closeText() + this.closeCalls();
      const done = response(this.id!, this.model, this.created, this.output, responsesUsage(this.usage), this.finish);
      return out + this.event(done.status === "incomplete" ? "response.incomplete" : "response.completed", { response: done });
    }
    const chunk = this.json(data);
    if (!chunk) return "";
    if (chunk.error) {
      const error = chunk.error as { message?: string; code?: unknown };
      return this.event("error", { code: error.code ?? null, message: error.message ?? "error", param: null });
    }
    let out = this.start(chunk.id);
    if (typeof chunk.created === "number" && this.output.length === 0) this.created = chunk.created;
    if (chunk.usage) this.usage = chunk.usage as ChatUsage;
    const choice = (chunk.choices as Array<{ delta?: Json; finish_reason?: string | null }> | undefined)?.[0];
    if (!choice) return out;
    const delta = (choice.delta ?? {}) as {
      content?: string | null;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    if (delta.content) {
      if (!this.text) {
        const index = this.output.length;
        const item = messageItem(this.id!, "", "in_progress");
        this.output.push(item);
        this.text = { index, item, text: "" };
        out +=
          this.event("response.output_item.added", { output_index: index, item }) +
          this.event("response.content_part.added", {
            item_id: item.id,
            output_index: index,
            content_index: 0,
            part: { type: "output_text", text: "", annotations: [] },
          });
      }
      this.text.text += delta.content;
      out += this.event("response.output_text.delta", {
        item_id: this.text.item.id,
        output_index: this.text.index,
        content_index: 0,
        delta: delta.content,
      });
    }
    for (const piece of delta.tool_calls ?? []) {
      let open = this.calls.get(piece.index);
      if (!open) {
        out += this.closeText();
        const call = { id: piece.id ?? `call_${piece.index}`, function: { name: piece.function?.name ?? "", arguments: "" } };
        open = { index: this.output.length, call };
        this.calls.set(piece.index, open);
        const item = callItem(call, "in_progress");
        this.output.push(item);
        out += this.event("response.output_item.added", { output_index: open.index, item });
      }
      const args = piece.function?.arguments;
      if (args) {
        open.call.function.arguments += args;
        out += this.event("response.function_call_arguments.delta", {
          item_id: `fc_${open.call.id}`,
          output_index: open.index,
          delta: args,
        });
      }
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }
}
