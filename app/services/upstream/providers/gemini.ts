// Google's Gemini API (LiteLLM's gemini/ prefix): OpenAI chat requests as
// generateContent / streamGenerateContent (alt=sse) requests, the key in
// x-goog-api-key, and the answers, streams, usage and errors back in
// OpenAI's shapes.
import { randomUUID } from "node:crypto";
import type { Deployment } from "../../../config/model-config.js";
import { ApiError } from "../../errors.js";
import type { ProviderAdapter } from "./provider.js";
import { ChunkWriter, chatCompletion, openaiUsage, type ToolCall } from "./openai-shapes.js";
import { SseTranslator } from "./sse-lines.js";

type Json = Record<string, unknown>;
interface OpenAIMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}
interface GeminiPart {
  text?: string;
  thought?: boolean;
  functionCall?: { id?: string; name: string; args?: unknown };
}

// Gemini's reasons a candidate ended, as OpenAI's finish_reason.
const FINISH: Record<string, string> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
};

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return { content: text };
  }
};

function geminiPart(part: Json, where: string): Json {
  if (part.type === "text") return { text: String(part.text ?? "") };
  const url = (part.image_url as { url?: string } | undefined)?.url ?? "";
  const data = /^data:([^;]+);base64,(.*)$/s.exec(url);
  if (part.type === "image_url" && data) return { inlineData: { mimeType: data[1], data: data[2] } };
  throw ApiError.badRequest(`${where}: gemini/ deployments take text, and images as data: URLs (base64)`, "messages");
}

/** OpenAI messages as Gemini contents: system messages become the system instruction, tool results function responses. */
function contents(messages: OpenAIMessage[]): { system: string[]; contents: Array<{ role: string; parts: Json[] }> } {
  const system: string[] = [];
  const out: Array<{ role: string; parts: Json[] }> = [];
  const names = new Map<string, string>();
  const push = (role: string, parts: Json[]) => {
    const last = out.at(-1);
    // Gemini wants turns to alternate: consecutive parts of one role join one turn.
    if (last?.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  };
  messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    if (message.role === "system" || message.role === "developer") {
      system.push(typeof message.content === "string" ? message.content : JSON.stringify(message.content));
    } else if (message.role === "tool") {
      const name = names.get(message.tool_call_id ?? "") ?? "tool";
      push("user", [{ functionResponse: { name, response: { content: parsed(String(message.content ?? "")) } } }]);
    } else if (message.role === "assistant") {
      const parts: Json[] = typeof message.content === "string" && message.content ? [{ text: message.content }] : [];
      for (const call of message.tool_calls ?? []) {
        names.set(call.id, call.function.name);
        parts.push({ functionCall: { name: call.function.name, args: parsed(call.function.arguments) } });
      }
      if (parts.length > 0) push("model", parts);
    } else {
      const content = message.content;
      push(
        "user",
        typeof content === "string"
          ? [{ text: content }]
          : ((content ?? []) as Json[]).map((part, p) => geminiPart(part, `${where}.content[${p}]`)),
      );
    }
  });
  return { system, contents: out };
}

/** An OpenAI chat request as a Gemini generateContent request. */
export function toGeminiRequest(payload: Json): Json {
  const { system, contents: turns } = contents((payload.messages ?? []) as OpenAIMessage[]);
  const stop = payload.stop === undefined || payload.stop === null ? undefined : [payload.stop].flat();
  const maxTokens = payload.max_completion_tokens ?? payload.max_tokens;
  const format = payload.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  const generation = {
    ...(payload.temperature !== undefined ? { temperature: payload.temperature } : {}),
    ...(payload.top_p !== undefined ? { topP: payload.top_p } : {}),
    ...(maxTokens !== undefined ? { maxOutputTokens: maxTokens } : {}),
    ...(stop ? { stopSequences: stop } : {}),
    ...(format?.type === "json_object" || format?.type === "json_schema" ? { responseMimeType: "application/json" } : {}),
    ...(format?.json_schema?.schema ? { responseJsonSchema: format.json_schema.schema } : {}),
  };
  const tools = payload.tools as Array<{ function: { name: string; description?: string; parameters?: unknown } }> | undefined;
  const choice = payload.tool_choice;
  const mode = choice === "none" ? "NONE" : choice === "required" || typeof choice === "object" ? "ANY" : undefined;
  return {
    contents: turns,
    ...(system.length > 0 ? { systemInstruction: { parts: [{ text: system.join("\n") }] } } : {}),
    ...(Object.keys(generation).length > 0 ? { generationConfig: generation } : {}),
    ...(tools?.length
      ? {
          tools: [
            {
              functionDeclarations: tools.map((t) => ({
                name: t.function.name,
                ...(t.function.description ? { description: t.function.description } : {}),
                ...(t.function.parameters ? { parameters: t.function.parameters } : {}),
              })),
            },
          ],
        }
      : {}),
    ...(mode
      ? {
          toolConfig: {
            functionCallingConfig: {
              mode,
              ...(typeof choice === "object" && choice !== null
                ? { allowedFunctionNames: [(choice as { function: { name: string } }).function.name] }
                : {}),
            },
          },
        }
      : {}),
  };
}

type GeminiUsage = {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
};
// Thinking tokens are billed as output, as OpenAI bills reasoning tokens.
const usageFrom = (u: GeminiUsage = {}) =>
  openaiUsage(
    (u.promptTokenCount ?? 0) - (u.cachedContentTokenCount ?? 0),
    u.cachedContentTokenCount ?? 0,
    0,
    (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
  );

type Candidate = { content?: { parts?: GeminiPart[] }; finishReason?: string };
const firstCandidate = (answer: Json) => (answer.candidates as Candidate[] | undefined)?.[0];
const textOf = (parts: GeminiPart[]) => parts.filter((p) => p.text !== undefined && !p.thought).map((p) => p.text!);
const callsOf = (parts: GeminiPart[], first: number): ToolCall[] =>
  parts
    .filter((p) => p.functionCall)
    .map((p, i) => ({
      id: p.functionCall!.id ?? `call_${first + i}`,
      name: p.functionCall!.name,
      arguments: JSON.stringify(p.functionCall!.args ?? {}),
    }));
const finishOf = (candidate: Candidate | undefined, called: boolean, blocked: boolean) =>
  blocked ? "content_filter" : called ? "tool_calls" : (FINISH[candidate?.finishReason ?? "STOP"] ?? "stop");

/** A generateContent answer as an OpenAI chat completion. */
export function fromGeminiResponse(answer: Json, model: string): Json {
  const candidate = firstCandidate(answer);
  const parts = candidate?.content?.parts ?? [];
  const calls = callsOf(parts, 0);
  const blocked = !candidate && Boolean((answer.promptFeedback as { blockReason?: string } | undefined)?.blockReason);
  return chatCompletion({
    id: `chatcmpl-${typeof answer.responseId === "string" ? answer.responseId : randomUUID().replaceAll("-", "")}`,
    created: Math.floor(Date.now() / 1000),
    model,
    text: textOf(parts),
    calls,
    finish: finishOf(candidate, calls.length > 0, blocked),
    usage: usageFrom(answer.usageMetadata as GeminiUsage | undefined),
  });
}

/** streamGenerateContent's SSE (each event a partial answer; usage counted so far in each) as OpenAI chunks. */
export class GeminiStream extends SseTranslator {
  private readonly out: ChunkWriter;
  private started = false;
  private calls = 0;
  private finished = false;
  private usage: GeminiUsage | undefined;

  constructor(model: string) {
    super();
    this.out = new ChunkWriter(`chatcmpl-${randomUUID().replaceAll("-", "")}`, model);
  }

  /** The upstream ended the stream: the finish (if no event said it) and the usage chunk. */
  protected override closing(): string {
    return (this.finished ? "" : this.out.delta({}, "stop")) + this.out.done(usageFrom(this.usage));
  }

  protected translate(data: string): string {
    const event = this.json(data);
    if (!event) return "";
    if (event.error) {
      const error = event.error as { message?: string; code?: number };
      return `data: ${JSON.stringify({ error: { message: `GeminiException - ${error.message ?? "error"}`, type: "api_error", param: null, code: String(error.code ?? 500) } })}\n\n`;
    }
    if (event.usageMetadata) this.usage = event.usageMetadata as GeminiUsage;
    let out = "";
    if (!this.started) {
      this.started = true;
      out += this.out.delta({ role: "assistant", content: "" });
    }
    const candidate = firstCandidate(event);
    const parts = candidate?.content?.parts ?? [];
    for (const text of textOf(parts)) if (text) out += this.out.delta({ content: text });
    const calls = callsOf(parts, this.calls);
    for (const call of calls)
      out += this.out.delta({
        tool_calls: [{ index: this.calls++, id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }],
      });
    if (candidate?.finishReason && !this.finished) {
      this.finished = true;
      out += this.out.delta({}, finishOf(candidate, this.calls > 0, false));
    }
    return out;
  }
}

/** Google's error ({"error": {code, message, status}}) in LiteLLM's shape with Google's status, under LiteLLM's exception name. */
export function googleFailure(exception: "GeminiException" | "VertexAIException") {
  return (status: number, text: string): string => {
    let message: string;
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown; status?: unknown } };
      message = `${String(body.error?.status ?? "")}: ${String(body.error?.message ?? text)}`.replace(/^: /, "");
    } catch {
      message = text.slice(0, 500);
    }
    const type =
      status === 429
        ? "rate_limit_error"
        : status === 401 || status === 403
          ? "auth_error"
          : status < 500
            ? "bad_request_error"
            : "api_error";
    return JSON.stringify({ error: { message: `${exception} - ${message}`, type, param: null, code: String(status) } });
  };
}

export const geminiFailure = googleFailure("GeminiException");

export const gemini: ProviderAdapter = {
  operations: ["/chat/completions"],
  request(deployment: Deployment, _operation, payload, stream) {
    const model = encodeURIComponent(deployment.upstreamModel);
    return {
      path: `/v1beta/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
      headers: deployment.apiKey ? { "x-goog-api-key": deployment.apiKey } : ({} as Record<string, string>),
      body: JSON.stringify(toGeminiRequest(payload)),
    };
  },
  answer: (text, deployment) => JSON.stringify(fromGeminiResponse(JSON.parse(text) as Json, deployment.upstreamModel)),
  stream: (deployment) => new GeminiStream(deployment.upstreamModel),
  failure: geminiFailure,
};
