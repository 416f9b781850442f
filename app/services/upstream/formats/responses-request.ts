// A Responses API request as the chat request the pipeline works on: for the
// deployments that do not speak the Responses API themselves (Anthropic,
// Bedrock). What has no chat equivalent (OpenAI's hosted tools, a stored
// conversation to continue) is refused for them, naming the field; the
// deployments that speak the API take it as it is.
import { ApiError } from "../../errors.js";

type Json = Record<string, unknown>;

export interface ResponsesRequest {
  model: string;
  input: string | Json[];
  instructions?: string | null;
  stream?: boolean;
  previous_response_id?: string | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  tools?: Json[];
  tool_choice?: string | Json;
  parallel_tool_calls?: boolean;
  text?: { format?: Json };
  reasoning?: { effort?: string | null } | null;
  user?: string;
  metadata?: Record<string, string> | null;
}

const untranslatable = (field: string, why: string) => ApiError.badRequest(`${field}: ${why}`, field.replace(/\[.*$/, ""));

/** One content part of an input message as a chat content part. */
function chatPart(part: Json, where: string): Json {
  if (part.type === "input_text" || part.type === "output_text" || part.type === "text")
    return { type: "text", text: String(part.text ?? "") };
  if (part.type === "input_image" && typeof part.image_url === "string")
    return { type: "image_url", image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } };
  throw untranslatable(where, `content of type ${JSON.stringify(part.type)} is taken only by deployments that speak the Responses API`);
}

function chatContent(content: unknown, where: string): string | Json[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw untranslatable(where, "content must be a string or a list of parts");
  const parts = (content as Json[]).map((part, index) => chatPart(part, `${where}.content[${index}]`));
  // Text alone goes as a plain string: every OpenAI-compatible server takes that; not all take parts.
  return parts.every((p) => p.type === "text") ? parts.map((p) => String(p.text)).join("") : parts;
}

/** The input items as chat messages: function calls join the assistant turn before them, their outputs become tool messages. */
function chatMessages(input: ResponsesRequest["input"]): Json[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  const messages: Json[] = [];
  input.forEach((item, index) => {
    const where = `input[${index}]`;
    const type = item.type ?? "message";
    if (type === "message") {
      const role = item.role === "developer" ? "system" : item.role;
      if (role !== "user" && role !== "assistant" && role !== "system")
        throw untranslatable(where, `role ${JSON.stringify(item.role)} is not one of user, assistant, system, developer`);
      messages.push({ role, content: chatContent(item.content, where) });
    } else if (type === "function_call") {
      const call = { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments ?? "{}" } };
      const last = messages.at(-1);
      if (last?.role === "assistant" && last.content === null) (last.tool_calls as Json[]).push(call);
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (type === "function_call_output") {
      messages.push({
        role: "tool",
        tool_call_id: item.call_id,
        content: typeof item.output === "string" ? item.output : JSON.stringify(item.output),
      });
    } else if (type !== "reasoning") {
      // A reasoning item is the model's own note to itself: nothing a chat model reads.
      throw untranslatable(where, `items of type ${JSON.stringify(type)} are taken only by deployments that speak the Responses API`);
    }
  });
  return messages;
}

function chatTools(tools: Json[]): Json[] {
  return tools.map((tool, index) => {
    if (tool.type !== "function")
      throw untranslatable(
        `tools[${index}]`,
        `${JSON.stringify(tool.type)} is one of OpenAI's hosted tools: only deployments that speak the Responses API run it`,
      );
    return {
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.parameters ?? { type: "object", properties: {} },
        ...(tool.strict !== undefined && tool.strict !== null ? { strict: tool.strict } : {}),
      },
    };
  });
}

function chatToolChoice(choice: string | Json): unknown {
  if (typeof choice === "string") return choice;
  if (choice.type === "function") return { type: "function", function: { name: choice.name } };
  return choice.type;
}

/** text.format as chat's response_format. */
function responseFormat(format: Json): unknown {
  if (format.type === "json_schema")
    return {
      type: "json_schema",
      json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}) },
    };
  return { type: format.type };
}

export function responsesToChat(request: ResponsesRequest): Json {
  if (request.previous_response_id)
    throw untranslatable(
      "previous_response_id",
      "only deployments that speak the Responses API keep responses to continue from; this model's do not — send the conversation in input",
    );
  const messages = chatMessages(request.input);
  if (request.instructions) messages.unshift({ role: "system", content: request.instructions });
  const format = request.text?.format;
  return {
    model: request.model,
    messages,
    ...(request.max_output_tokens != null ? { max_tokens: request.max_output_tokens } : {}),
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(request.top_p != null ? { top_p: request.top_p } : {}),
    ...(request.tools?.length ? { tools: chatTools(request.tools) } : {}),
    ...(request.tool_choice !== undefined ? { tool_choice: chatToolChoice(request.tool_choice) } : {}),
    ...(request.parallel_tool_calls !== undefined ? { parallel_tool_calls: request.parallel_tool_calls } : {}),
    ...(format && format.type !== "text" ? { response_format: responseFormat(format) } : {}),
    ...(request.reasoning?.effort ? { reasoning_effort: request.reasoning.effort } : {}),
    ...(request.user ? { user: request.user } : {}),
    ...(request.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}
