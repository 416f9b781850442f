import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "../../../config/model-config.js";
import { ApiError } from "../../errors.js";
import { decodeResponseId, encodeResponseId } from "./response-id.js";
import { responsesApi } from "./responses-api.js";
import { chatToResponse, ChatToResponsesStream } from "./responses-answer.js";
import { nativeResponses } from "./responses-native.js";
import { responsesToChat, type ResponsesRequest } from "./responses-request.js";

const deployment = (provider: string, id = "dep-1") => ({ id, provider, name: "g", upstreamModel: "m" }) as Deployment;
const bytes = (text: string) => Buffer.from(text);
const events = (sse: string) =>
  sse
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);

describe("response ids name the deployment that keeps the response", () => {
  it("round-trips, in one URL path segment", () => {
    const origin = { provider: "openai", deploymentId: "gpt/0", upstreamId: "resp_abc123" };
    const id = encodeResponseId(origin);
    assert.match(id, /^resp_[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeResponseId(id), origin);
  });
  it("reads LiteLLM's (base64) ids too", () => {
    const litellm = `resp_${Buffer.from("litellm:custom_llm_provider:azure;model_id:abc;response_id:resp_x").toString("base64")}`;
    assert.deepEqual(decodeResponseId(litellm), { provider: "azure", deploymentId: "abc", upstreamId: "resp_x" });
  });
  for (const id of ["resp_abc", "hi", "resp_", `resp_${Buffer.from("something else").toString("base64url")}`])
    it(`an id tandem did not hand out (${id}) names no deployment`, () => assert.equal(decodeResponseId(id), undefined));
});

describe("which deployments speak the Responses API", () => {
  for (const [provider, speaks] of [
    ["openai", true],
    ["hosted_vllm", true],
    ["azure", true],
    ["anthropic", false],
    ["bedrock", false],
  ] as const)
    it(`${provider}: ${speaks ? "natively" : "translated"}`, () => assert.equal(responsesApi.speaks(deployment(provider)), speaks));

  it("a request continuing a tandem response is pinned to its deployment, with the upstream's own id", () => {
    const previous = encodeResponseId({ provider: "openai", deploymentId: "keeper-b", upstreamId: "resp_up" });
    const pinned = responsesApi.pinned!({ model: "g", input: "x", previous_response_id: previous });
    assert.deepEqual(pinned, { deploymentId: "keeper-b", request: { model: "g", input: "x", previous_response_id: "resp_up" } });
    assert.equal(responsesApi.pinned!({ model: "g", input: "x", previous_response_id: "resp_upstreams_own" }), undefined);
  });
});

describe("a Responses request as a chat request", () => {
  const cases: Array<[string, Partial<ResponsesRequest>, Record<string, unknown>]> = [
    ["a string input is one user message", { input: "hi" }, { messages: [{ role: "user", content: "hi" }] }],
    [
      "instructions come first, as a system message; developer is system",
      {
        instructions: "be brief",
        input: [
          { role: "developer", content: "rules" },
          { role: "user", content: "q" },
        ],
      },
      {
        messages: [
          { role: "system", content: "be brief" },
          { role: "system", content: "rules" },
          { role: "user", content: "q" },
        ],
      },
    ],
    [
      "text parts join into a string; an image makes parts",
      {
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "a" },
              { type: "input_text", text: "b" },
            ],
          },
          {
            role: "user",
            content: [
              { type: "input_text", text: "see" },
              { type: "input_image", image_url: "https://x/y.png" },
            ],
          },
        ],
      },
      {
        messages: [
          { role: "user", content: "ab" },
          {
            role: "user",
            content: [
              { type: "text", text: "see" },
              { type: "image_url", image_url: { url: "https://x/y.png" } },
            ],
          },
        ],
      },
    ],
    [
      "function calls join one assistant turn; their outputs are tool messages",
      {
        input: [
          { role: "user", content: "weather?" },
          { type: "function_call", call_id: "c1", name: "w", arguments: '{"city":"Paris"}' },
          { type: "function_call", call_id: "c2", name: "w", arguments: '{"city":"Rome"}' },
          { type: "function_call_output", call_id: "c1", output: "sunny" },
          { type: "reasoning", id: "rs_1", summary: [] },
        ],
      },
      {
        messages: [
          { role: "user", content: "weather?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "c1", type: "function", function: { name: "w", arguments: '{"city":"Paris"}' } },
              { id: "c2", type: "function", function: { name: "w", arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: "tool", tool_call_id: "c1", content: "sunny" },
        ],
      },
    ],
    [
      "settings under chat's names",
      {
        input: "x",
        max_output_tokens: 50,
        temperature: 0.2,
        tools: [{ type: "function", name: "w", parameters: { type: "object" } }],
        tool_choice: { type: "function", name: "w" },
        text: { format: { type: "json_schema", name: "s", schema: { type: "object" }, strict: true } },
        reasoning: { effort: "low" },
        stream: true,
      },
      {
        messages: [{ role: "user", content: "x" }],
        max_tokens: 50,
        temperature: 0.2,
        tools: [{ type: "function", function: { name: "w", parameters: { type: "object" } } }],
        tool_choice: { type: "function", function: { name: "w" } },
        response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" }, strict: true } },
        reasoning_effort: "low",
        stream: true,
        stream_options: { include_usage: true },
      },
    ],
  ];
  for (const [name, request, expected] of cases)
    it(name, () =>
      assert.deepEqual(responsesToChat({ model: "g", input: "", ...request } as ResponsesRequest), { model: "g", ...expected }),
    );

  const refused: Array<[string, Partial<ResponsesRequest>, string]> = [
    ["a stored conversation", { previous_response_id: "resp_1" }, "previous_response_id"],
    ["a hosted tool", { tools: [{ type: "web_search_preview" }] }, "tools"],
    ["an item only the API knows", { input: [{ type: "file_search_call", id: "f" }] }, "input"],
    ["a file part", { input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] }, "input"],
  ];
  for (const [name, request, param] of refused)
    it(`${name} has no chat form: a 400 naming ${param}`, () =>
      assert.throws(
        () => responsesToChat({ model: "g", input: "x", ...request } as ResponsesRequest),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === param,
      ));
});

describe("a chat answer as a Responses answer", () => {
  it("text and tool calls become output items; usage under the API's names", () => {
    const response = chatToResponse(
      {
        id: "chatcmpl-42",
        created: 7,
        choices: [
          {
            message: { content: "hi", tool_calls: [{ id: "c1", function: { name: "w", arguments: "{}" } }] },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 1 } },
      },
      "g",
    );
    assert.deepEqual([response.id, response.status, response.created_at, response.model], ["resp_42", "completed", 7, "g"]);
    assert.deepEqual(response.output, [
      {
        id: "msg_42",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "hi", annotations: [] }],
      },
      { id: "fc_c1", type: "function_call", status: "completed", call_id: "c1", name: "w", arguments: "{}" },
    ]);
    assert.deepEqual(response.usage, {
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 1 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 5,
    });
  });
  it("an answer cut at its token limit is incomplete", () => {
    const response = chatToResponse({ id: "x", choices: [{ message: { content: "a" }, finish_reason: "length" }] }, "g");
    assert.deepEqual([response.status, response.incomplete_details], ["incomplete", { reason: "max_output_tokens" }]);
  });
});

describe("a chat stream as the Responses API's events", () => {
  const chunk = (fields: Record<string, unknown>) => `data: ${JSON.stringify({ id: "chatcmpl-9", ...fields })}\n\n`;
  it("text: created, in_progress, the item and its part, deltas, their ends, completed with usage — numbered in order", () => {
    const stream = new ChatToResponsesStream("g");
    const sse =
      stream.feed(
        bytes(chunk({ choices: [{ delta: { role: "assistant", content: "" } }] }) + chunk({ choices: [{ delta: { content: "he" } }] })),
      ) +
      stream.feed(bytes(chunk({ choices: [{ delta: { content: "llo" }, finish_reason: "stop" }] }))) +
      stream.feed(bytes(chunk({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } }) + "data: [DONE]\n\n")) +
      stream.end();
    const got = events(sse);
    assert.deepEqual(
      got.map((e) => e.type),
      [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
      ],
    );
    assert.deepEqual(
      got.map((e) => e.sequence_number),
      got.map((_, i) => i),
    );
    const done = got.at(-1)!.response as {
      id: string;
      output: Array<{ content: Array<{ text: string }> }>;
      usage: { total_tokens: number };
    };
    assert.deepEqual([done.id, done.output[0]!.content[0]!.text, done.usage.total_tokens], ["resp_9", "hello", 3]);
  });
  it("a tool call: an item with argument deltas", () => {
    const stream = new ChatToResponsesStream("g");
    const sse =
      stream.feed(
        bytes(
          chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: "c1", function: { name: "w", arguments: "" } }] } }] }) +
            chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] } }] }) +
            chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }, finish_reason: "tool_calls" }] }) +
            "data: [DONE]\n\n",
        ),
      ) + stream.end();
    const got = events(sse);
    assert.deepEqual(
      got.filter((e) => e.type === "response.function_call_arguments.delta").map((e) => e.delta),
      ['{"a"', ":1}"],
    );
    const done = got.at(-1)!.response as { output: Array<Record<string, unknown>> };
    assert.deepEqual(done.output, [
      { id: "fc_c1", type: "function_call", status: "completed", call_id: "c1", name: "w", arguments: '{"a":1}' },
    ]);
  });
  it("a stream cut short ends without response.completed", () => {
    const stream = new ChatToResponsesStream("g");
    const sse = stream.feed(bytes(chunk({ choices: [{ delta: { content: "par" } }] }))) + stream.end();
    assert.ok(!events(sse).some((e) => e.type === "response.completed"));
  });
});

describe("a native Responses exchange", () => {
  const d = deployment("openai", "keeper-a");
  const tandem = encodeResponseId({ provider: "openai", deploymentId: "keeper-a", upstreamId: "resp_up" });
  it("an answer carries tandem's id and nothing else changes", () => {
    const answer = JSON.parse(
      nativeResponses.answer(JSON.stringify({ id: "resp_up", object: "response", output: [{ id: "msg_1" }] }), d),
    ) as Record<string, unknown>;
    assert.deepEqual(answer, { id: tandem, object: "response", output: [{ id: "msg_1" }] });
  });
  it("a stream keeps its framing; events holding the response carry tandem's id, split anywhere", () => {
    const upstream =
      `event: response.created\ndata: ${JSON.stringify({ type: "response.created", sequence_number: 0, response: { id: "resp_up", object: "response", usage: null } })}\n\n` +
      `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", sequence_number: 1, item_id: "msg_1", delta: "hi" })}\n\n` +
      `event: response.completed\ndata: ${JSON.stringify({ type: "response.completed", sequence_number: 2, response: { id: "resp_up", object: "response", usage: { input_tokens: 4, output_tokens: 1, total_tokens: 5, input_tokens_details: { cached_tokens: 2 } } } })}\n\n`;
    const { read, write } = nativeResponses.stream(d);
    let written = "";
    let read_ = "";
    for (let at = 0; at < upstream.length; at += 37) {
      const piece = bytes(upstream.slice(at, at + 37));
      written += write.feed(piece);
      read_ += read.feed(piece);
    }
    written += write.end();
    read_ += read.end();
    assert.equal(written, upstream.replaceAll('"id":"resp_up"', `"id":"${tandem}"`));
    const chunks = events(read_);
    assert.deepEqual(
      chunks.map((c) => [c.id, c.choices]),
      [
        [tandem, [{ index: 0, delta: { content: "hi" } }]],
        [tandem, []],
      ],
    );
    assert.deepEqual(chunks[1]!.usage, {
      prompt_tokens: 4,
      completion_tokens: 1,
      total_tokens: 5,
      prompt_tokens_details: { cached_tokens: 2 },
    });
  });
});
