import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../errors.js";
import { fromGeminiResponse, geminiFailure, GeminiStream, toGeminiRequest } from "./gemini.js";

describe("an OpenAI chat request as a Gemini request", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    [
      "system messages join the system instruction; consecutive user messages one turn",
      {
        messages: [
          { role: "system", content: "a" },
          { role: "developer", content: "b" },
          { role: "user", content: "one" },
          { role: "user", content: "two" },
        ],
      },
      { contents: [{ role: "user", parts: [{ text: "one" }, { text: "two" }] }], systemInstruction: { parts: [{ text: "a\nb" }] } },
    ],
    [
      "an image as a data: URL is inline data",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "see" },
              { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            ],
          },
        ],
      },
      { contents: [{ role: "user", parts: [{ text: "see" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] }] },
    ],
    [
      "json_schema asks for JSON with that schema; stop and max_completion_tokens under Gemini's names",
      {
        messages: [{ role: "user", content: "x" }],
        response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" } } },
        stop: "END",
        max_completion_tokens: 9,
      },
      {
        contents: [{ role: "user", parts: [{ text: "x" }] }],
        generationConfig: {
          maxOutputTokens: 9,
          stopSequences: ["END"],
          responseMimeType: "application/json",
          responseJsonSchema: { type: "object" },
        },
      },
    ],
    [
      "a named tool choice is ANY over that function; none is NONE",
      {
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "function", function: { name: "w", parameters: { type: "object" } } }],
        tool_choice: { type: "function", function: { name: "w" } },
      },
      {
        contents: [{ role: "user", parts: [{ text: "x" }] }],
        tools: [{ functionDeclarations: [{ name: "w", parameters: { type: "object" } }] }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["w"] } },
      },
    ],
  ];
  for (const [name, payload, expected] of cases) it(name, () => assert.deepEqual(toGeminiRequest(payload), expected));

  it("an image by http URL is a 400 naming where it is", () =>
    assert.throws(
      () => toGeminiRequest({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && /^messages\[0\]\.content\[0\]: /.test(e.message),
    ));
});

describe("a Gemini answer as an OpenAI chat completion", () => {
  const answer = (finishReason: string | undefined, extra: Record<string, unknown> = {}) =>
    fromGeminiResponse(
      {
        candidates:
          finishReason === undefined
            ? undefined
            : [{ content: { parts: [{ text: "thinking…", thought: true }, { text: "hi" }] }, finishReason }],
        usageMetadata: { promptTokenCount: 10, cachedContentTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 3 },
        ...extra,
      },
      "gemini-2.0-flash",
    ) as { choices: Array<{ message: { content: string | null }; finish_reason: string }>; usage: unknown };
  for (const [reason, finish] of [
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
  ] as const)
    it(`finishReason ${reason} is ${finish}`, () => assert.equal(answer(reason).choices[0]!.finish_reason, finish));
  it("thoughts are not the answer's text but are billed as output; cached prompt tokens are detailed", () => {
    const completion = answer("STOP");
    assert.equal(completion.choices[0]!.message.content, "hi");
    assert.deepEqual(completion.usage, {
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
    });
  });
  it("a prompt Gemini blocked (no candidates) is content_filter with no text", () => {
    const blocked = answer(undefined, { promptFeedback: { blockReason: "SAFETY" } });
    assert.deepEqual([blocked.choices[0]!.message.content, blocked.choices[0]!.finish_reason], [null, "content_filter"]);
  });
});

describe("Gemini's stream and errors", () => {
  it("ends with a finish and the last usage even when no event said why it stopped", () => {
    const stream = new GeminiStream("m");
    const out =
      stream.feed(
        Buffer.from(
          `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: "a" }] } }], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1 } })}\r\n\r\n`,
        ),
      ) + stream.end();
    const chunks = out
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)) as { choices: Array<{ delta: unknown; finish_reason: string | null }>; usage?: unknown });
    assert.deepEqual(
      chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason ?? null]),
      [
        [{ role: "assistant", content: "" }, null],
        [{ content: "a" }, null],
        [{}, "stop"],
        [undefined, null],
      ],
    );
    assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 });
    assert.ok(out.endsWith("data: [DONE]\n\n"));
  });
  it("an error body is LiteLLM's shape with Gemini's status word", () =>
    assert.deepEqual(
      JSON.parse(geminiFailure(400, JSON.stringify({ error: { code: 400, message: "bad key", status: "INVALID_ARGUMENT" } }))),
      {
        error: { message: "GeminiException - INVALID_ARGUMENT: bad key", type: "bad_request_error", param: null, code: "400" },
      },
    ));
});
