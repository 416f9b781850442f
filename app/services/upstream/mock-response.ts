import { randomUUID } from "node:crypto";
import type { UpstreamResponse } from "./upstream-client.js";

// LiteLLM's mock answers report this usage, whatever the text: clients' CI asserts on it.
const MOCK_USAGE = { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 };

/**
 * LiteLLM's `mock_response`: a chat completion with this text, made here instead of by an upstream,
 * whole or as a stream of chunks (with a usage chunk, so it is charged as any answer is).
 */
export function mockChatResponse(content: string, model: string, stream: boolean): UpstreamResponse {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const text = stream
    ? [
        {
          id,
          object: "chat.completion.chunk",
          created,
          model,
          choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }],
        },
        { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        { id, object: "chat.completion.chunk", created, model, choices: [], usage: MOCK_USAGE },
      ]
        .map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
        .join("") + "data: [DONE]\n\n"
    : JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: MOCK_USAGE,
      });
  const bytes = Buffer.from(text);
  return {
    status: 200,
    contentType: stream ? "text/event-stream" : "application/json",
    body: {
      async *[Symbol.asyncIterator]() {
        yield bytes;
      },
      text: async () => text,
      dump: async () => {},
    },
  };
}
