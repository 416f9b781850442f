import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { ConverseStream, fromConverseResponse, toConverseRequest } from "./bedrock.js";

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const event = (type: string, body: unknown, messageType = "event") =>
  codec.encode({
    headers: {
      ":event-type": { type: "string", value: type },
      ":message-type": { type: "string", value: messageType },
      ...(messageType === "exception" ? { ":exception-type": { type: "string" as const, value: type } } : {}),
    },
    body: fromUtf8(JSON.stringify(body)),
  });
const strip = (s: string) => s.replace(/"(id|created)":("[^"]*"|\d+)/g, "");

describe("OpenAI chat ↔ Bedrock Converse", () => {
  it("a request: system lifted, inference settings renamed, tool choice mapped, tool results as toolResult blocks", () => {
    const request = toConverseRequest({
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "q" },
        { role: "assistant", content: null, tool_calls: [{ id: "t1", function: { name: "f", arguments: '{"a":1}' } }] },
        { role: "tool", tool_call_id: "t1", content: "r" },
      ],
      max_tokens: 10,
      top_p: 0.5,
      stop: "X",
      tools: [{ function: { name: "f", parameters: { type: "object" } } }],
      tool_choice: "required",
    });
    assert.deepEqual(request, {
      messages: [
        { role: "user", content: [{ text: "q" }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: "t1", name: "f", input: { a: 1 } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "r" }] } }] },
      ],
      system: [{ text: "s" }],
      inferenceConfig: { maxTokens: 10, topP: 0.5, stopSequences: ["X"] },
      toolConfig: { tools: [{ toolSpec: { name: "f", inputSchema: { json: { type: "object" } } } }], toolChoice: { any: {} } },
    });
  });

  it("an answer: stop reasons and cached input tokens as OpenAI counts them", () => {
    const answer = fromConverseResponse(
      {
        output: { message: { content: [{ text: "hi" }] } },
        stopReason: "max_tokens",
        usage: { inputTokens: 3, cacheReadInputTokens: 10, outputTokens: 2 },
      },
      "m",
    );
    assert.deepEqual(answer.usage, {
      prompt_tokens: 13,
      completion_tokens: 2,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 10 },
    });
    assert.equal((answer.choices as Array<{ finish_reason: string }>)[0]?.finish_reason, "length");
  });

  it("an event stream split at any byte translates the same as whole", () => {
    const wire = Buffer.concat([
      event("messageStart", { role: "assistant" }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "hel" } }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "lo" } }),
      event("messageStop", { stopReason: "end_turn" }),
      event("metadata", { usage: { inputTokens: 2, outputTokens: 2 } }),
    ]);
    const whole = new ConverseStream("m").feed(wire);
    const split = new ConverseStream("m");
    let pieces = "";
    for (let i = 0; i < wire.length; i += 5) pieces += split.feed(wire.subarray(i, i + 5));
    assert.equal(strip(pieces), strip(whole));
    assert.match(whole, /"content":"hel"/);
    assert.match(whole, /"usage":\{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4\}/);
    assert.ok(whole.endsWith("data: [DONE]\n\n"));
  });

  it("an exception event mid-stream becomes an error chunk, not a clean end", () => {
    const out = new ConverseStream("m").feed(event("throttlingException", { message: "slow down" }, "exception"));
    assert.match(out, /"error":\{"message":"BedrockException - slow down","type":"throttlingException"/);
    assert.doesNotMatch(out, /\[DONE\]/);
  });
});
