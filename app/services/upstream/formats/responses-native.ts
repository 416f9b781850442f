// The Responses API spoken by the deployment itself (OpenAI, Azure, any
// OpenAI-compatible server): the client's body goes as it came and the
// answer comes back as it came, but for the response's id, which becomes
// one that names the deployment (response-id.ts) so a follow-up finds it.
import type { Deployment } from "../../../config/model-config.js";
import type { StreamTranslator } from "../providers/provider.js";
import { SseTranslator } from "../providers/sse-lines.js";
import type { NativeExchange } from "./client-format.js";
import { encodeResponseId } from "./response-id.js";

type Json = Record<string, unknown>;

const tandemId = (deployment: Deployment, upstreamId: string) =>
  encodeResponseId({ provider: deployment.provider, deploymentId: deployment.id, upstreamId });

/** A response object (an answer, or the one inside a stream event) with tandem's id; anything else as it is. */
export function withTandemId(response: Json, deployment: Deployment): Json {
  return typeof response.id === "string" && response.object === "response"
    ? { ...response, id: tandemId(deployment, response.id) }
    : response;
}

function rewritten(text: string, deployment: Deployment): string {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return text;
  }
  return JSON.stringify(withTandemId(value, deployment));
}

/** The stream as it came, line by line, with each event's response carrying tandem's id. */
class IdRewriter implements StreamTranslator {
  private buffer = "";
  private readonly decoder = new TextDecoder();

  constructor(private readonly deployment: Deployment) {}

  feed(chunk: Uint8Array): string {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const end = this.buffer.lastIndexOf("\n");
    if (end < 0) return "";
    const whole = this.buffer.slice(0, end + 1);
    this.buffer = this.buffer.slice(end + 1);
    return this.rewrite(whole);
  }

  end(): string {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = "";
    return this.rewrite(rest);
  }

  private rewrite(lines: string): string {
    // Only the events that carry the whole response (created, in_progress, completed…) hold its id.
    if (!lines.includes('"response"')) return lines;
    return lines.replace(/^data:[ ]?(.*)$/gm, (line, data: string) => {
      if (!data.includes('"response"')) return line;
      try {
        const event = JSON.parse(data) as { response?: Json };
        if (!event.response) return line;
        return `data: ${JSON.stringify({ ...event, response: withTandemId(event.response, this.deployment) })}`;
      } catch {
        return line;
      }
    });
  }
}

/** Reads the API's events as OpenAI chat chunks — the id, the text, the usage — which is what billing reads. */
class ResponsesReader extends SseTranslator {
  private id = "";

  constructor(private readonly deployment: Deployment) {
    super();
  }

  protected translate(data: string): string {
    const event = this.json(data) as { type?: string; delta?: unknown; response?: Json } | undefined;
    if (!event) return "";
    if (typeof event.response?.id === "string" && !this.id) this.id = tandemId(this.deployment, event.response.id);
    const chunk = (fields: Json) => `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", ...fields })}\n\n`;
    if (event.type === "response.output_text.delta" && typeof event.delta === "string")
      return chunk({ choices: [{ index: 0, delta: { content: event.delta } }] });
    const usage = event.response?.usage as
      | { input_tokens?: number; output_tokens?: number; total_tokens?: number; input_tokens_details?: { cached_tokens?: number } }
      | undefined;
    if (!usage || typeof usage.input_tokens !== "number") return "";
    return chunk({
      choices: [],
      usage: {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens ?? 0,
        total_tokens: usage.total_tokens ?? usage.input_tokens + (usage.output_tokens ?? 0),
        prompt_tokens_details: { cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0 },
      },
    });
  }
}

export const nativeResponses: NativeExchange = {
  path: "/responses",
  answer: rewritten,
  stream: (deployment) => ({ read: new ResponsesReader(deployment), write: new IdRewriter(deployment) }),
};
