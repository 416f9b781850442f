import { randomUUID } from "node:crypto";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import type { Deployment } from "../../../config/model-config.js";
import { ApiError } from "../../errors.js";
import { awsCredentials } from "./aws-credentials.js";
import { toAnthropicMessages } from "./anthropic.js";
import type { ProviderAdapter, StreamTranslator } from "./provider.js";
import { ChunkWriter, chatCompletion, openaiUsage } from "./openai-shapes.js";

type Json = Record<string, unknown>;

// One signer per deployment: its region and its identity (aws-credentials.ts).
const signers = new WeakMap<Deployment, SignatureV4>();
const signerFor = (region: string, deployment: Deployment) => {
  let signer = signers.get(deployment);
  if (!signer) {
    const credentials = awsCredentials(deployment.aws, region);
    signer = new SignatureV4({ credentials, region, service: "bedrock", sha256: Hash.bind(null, "sha256") });
    signers.set(deployment, signer);
  }
  return signer;
};

const FINISH: Record<string, string> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  guardrail_intervened: "content_filter",
  content_filtered: "content_filter",
};

/**
 * Signs with the credential chain's current credentials. No credentials (no IRSA role, no
 * instance profile) is the deployment's failure (502, another deployment may do), never a 500;
 * the chain's message names no secret.
 */
async function signRequest(
  region: string,
  request: Parameters<SignatureV4["sign"]>[0] & { headers: Record<string, string> },
  deployment: Deployment,
) {
  try {
    return await signerFor(region, deployment).sign(request);
  } catch (error) {
    throw new ApiError(
      502,
      `bedrock deployment ${deployment.name}: AWS credentials unavailable (${error instanceof Error ? error.message : String(error)})`,
      "upstream_error",
    );
  }
}

/** Anthropic-shaped content blocks (what toAnthropicMessages makes) as Converse blocks. */
function converseBlock(block: Json): Json {
  switch (block.type) {
    case "text":
      return { text: block.text };
    case "image": {
      const source = block.source as { type: string; media_type?: string; data?: string };
      return { image: { format: String(source.media_type ?? "image/png").replace("image/", ""), source: { bytes: source.data } } };
    }
    case "tool_use":
      return { toolUse: { toolUseId: block.id, name: block.name, input: block.input } };
    case "tool_result":
      return { toolResult: { toolUseId: block.tool_use_id, content: [{ text: String(block.content ?? "") }] } };
    default:
      return { text: "" };
  }
}

/** An OpenAI chat request as a Bedrock Converse request. */
export function toConverseRequest(payload: Json): Json {
  const { system, messages } = toAnthropicMessages((payload.messages ?? []) as Parameters<typeof toAnthropicMessages>[0]);
  const tools = payload.tools as Array<{ function: { name: string; description?: string; parameters?: unknown } }> | undefined;
  const choice = payload.tool_choice;
  const stop = payload.stop === undefined || payload.stop === null ? undefined : [payload.stop].flat();
  const maxTokens = payload.max_completion_tokens ?? payload.max_tokens;
  const inference = {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(payload.temperature !== undefined ? { temperature: payload.temperature } : {}),
    ...(payload.top_p !== undefined ? { topP: payload.top_p } : {}),
    ...(stop ? { stopSequences: stop } : {}),
  };
  return {
    messages: messages.map((m) => ({ role: m.role, content: (m.content as Json[]).map(converseBlock) })),
    ...(system ? { system: [{ text: system }] } : {}),
    ...(Object.keys(inference).length > 0 ? { inferenceConfig: inference } : {}),
    ...(tools && choice !== "none"
      ? {
          toolConfig: {
            tools: tools.map((t) => ({
              toolSpec: {
                name: t.function.name,
                ...(t.function.description ? { description: t.function.description } : {}),
                inputSchema: { json: t.function.parameters ?? { type: "object" } },
              },
            })),
            ...(choice === "required"
              ? { toolChoice: { any: {} } }
              : typeof choice === "object" && choice !== null
                ? { toolChoice: { tool: { name: (choice as { function: { name: string } }).function.name } } }
                : {}),
          },
        }
      : {}),
  };
}

const usageFrom = (usage: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number }) =>
  openaiUsage(usage.inputTokens ?? 0, usage.cacheReadInputTokens ?? 0, usage.cacheWriteInputTokens ?? 0, usage.outputTokens ?? 0);

/** A Converse answer as an OpenAI chat completion (Bedrock gives no id: one is made). */
export function fromConverseResponse(answer: Json, model: string): Json {
  const content = ((answer.output as { message?: { content?: Json[] } } | undefined)?.message?.content ?? []) as Array<{
    text?: string;
    toolUse?: { toolUseId: string; name: string; input: unknown };
  }>;
  const said = content.flatMap((b) => (b.text !== undefined ? [b.text] : []));
  const calls = content.flatMap((b) =>
    b.toolUse ? [{ id: b.toolUse.toolUseId, name: b.toolUse.name, arguments: JSON.stringify(b.toolUse.input ?? {}) }] : [],
  );
  return chatCompletion({
    id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
    created: Math.floor(Date.now() / 1000),
    model,
    text: said,
    calls,
    finish: FINISH[String(answer.stopReason)] ?? "stop",
    usage: usageFrom((answer.usage ?? {}) as Json),
  });
}

/**
 * ConverseStream's binary event stream (application/vnd.amazon.eventstream:
 * length-prefixed messages, each an event type header and a JSON body) as
 * OpenAI chunks, ending with a usage chunk from the metadata event.
 */
export class ConverseStream implements StreamTranslator {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private buffer: Buffer = Buffer.alloc(0);
  // Bedrock's stream has no id: one is made, as for its answers.
  private readonly out: ChunkWriter;
  private readonly tools = new Map<number, number>();

  constructor(model: string) {
    this.out = new ChunkWriter(`chatcmpl-${randomUUID().replaceAll("-", "")}`, model);
  }

  feed(chunk: Uint8Array): string {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    let out = "";
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (this.buffer.length < length) break;
      const message = this.codec.decode(this.buffer.subarray(0, length));
      this.buffer = this.buffer.subarray(length);
      const header = (name: string) => message.headers[name]?.value as string | undefined;
      const body = JSON.parse(toUtf8(message.body) || "{}") as Json;
      out +=
        header(":message-type") === "exception" || header(":message-type") === "error"
          ? this.error(header(":exception-type") ?? header(":error-code") ?? "exception", body)
          : this.translate(header(":event-type") ?? "", body);
    }
    return out;
  }

  end(): string {
    return "";
  }

  private error(type: string, body: Json): string {
    return `data: ${JSON.stringify({ error: { message: `BedrockException - ${String(body.message ?? type)}`, type, param: null, code: "500" } })}\n\n`;
  }

  private translate(event: string, body: Json): string {
    switch (event) {
      case "messageStart":
        return this.out.delta({ role: "assistant", content: "" });
      case "contentBlockStart": {
        const use = (body.start as { toolUse?: { toolUseId: string; name: string } } | undefined)?.toolUse;
        if (!use) return "";
        const index = this.tools.size;
        this.tools.set(Number(body.contentBlockIndex), index);
        return this.out.delta({
          tool_calls: [{ index, id: use.toolUseId, type: "function", function: { name: use.name, arguments: "" } }],
        });
      }
      case "contentBlockDelta": {
        const delta = body.delta as { text?: string; toolUse?: { input?: string } };
        if (delta.text !== undefined) return this.out.delta({ content: delta.text });
        if (delta.toolUse) {
          const index = this.tools.get(Number(body.contentBlockIndex)) ?? 0;
          return this.out.delta({ tool_calls: [{ index, function: { arguments: delta.toolUse.input ?? "" } }] });
        }
        return "";
      }
      case "messageStop":
        return this.out.delta({}, FINISH[String(body.stopReason)] ?? "stop");
      case "metadata":
        return this.out.done(usageFrom((body.usage ?? {}) as Json));
      default:
        return "";
    }
  }
}

/** Bedrock's error body ({"message": …}, its kind in x-amzn-errortype) in LiteLLM's shape with Bedrock's status. */
export function bedrockFailure(status: number, text: string): string {
  let message: string;
  try {
    const body = JSON.parse(text) as { message?: unknown; Message?: unknown };
    message = String(body.message ?? body.Message ?? text);
  } catch {
    message = text.slice(0, 500);
  }
  const type = status === 429 ? "throttling_error" : status === 403 ? "auth_error" : status < 500 ? "bad_request_error" : "api_error";
  return JSON.stringify({ error: { message: `BedrockException - ${message}`, type, param: null, code: String(status) } });
}

/** Amazon Bedrock's Converse API, signed with SigV4 as the deployment's AWS identity (by default the credential chain's). */
export const bedrock: ProviderAdapter = {
  operations: ["/chat/completions"],
  async request(deployment: Deployment, _operation, payload, stream) {
    const region = deployment.awsRegion ?? "";
    const path = `/model/${encodeURIComponent(deployment.upstreamModel)}/${stream ? "converse-stream" : "converse"}`;
    const url = new URL(`${deployment.apiBase}${path}`);
    const body = JSON.stringify(toConverseRequest(payload));
    const signed = await signRequest(
      region,
      {
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: {},
        headers: { host: url.host, "content-type": "application/json" },
        body,
      },
      deployment,
    );
    const { host: _host, ...headers } = signed.headers;
    return { path, headers, body };
  },
  answer: (text, deployment) => JSON.stringify(fromConverseResponse(JSON.parse(text) as Json, deployment.upstreamModel)),
  stream: (deployment) => new ConverseStream(deployment.upstreamModel),
  failure: bedrockFailure,
};
