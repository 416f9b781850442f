import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AnthropicStream, fromAnthropicMessage, toAnthropicMessages, toAnthropicRequest } from "./anthropic.js";

describe("OpenAI chat ↔ Anthropic Messages", () => {
  const cases: Array<[string, Parameters<typeof toAnthropicMessages>[0], ReturnType<typeof toAnthropicMessages>]> = [
    [
      "system and developer messages lift into `system`",
      [
        { role: "system", content: "a" },
        { role: "developer", content: [{ type: "text", text: "b" }] },
        { role: "user", content: "hi" },
      ],
      { system: "a\n\nb", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] },
    ],
    [
      "consecutive turns of one role merge (Anthropic wants them alternating)",
      [
        { role: "user", content: "one" },
        { role: "user", content: "two" },
      ],
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "one" },
              { type: "text", text: "two" },
            ],
          },
        ],
      },
    ],
    [
      "images by data URL become base64 sources; others URL sources",
      [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            { type: "image_url", image_url: { url: "https://x/y.png" } },
          ],
        },
      ],
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
              { type: "image", source: { type: "url", url: "https://x/y.png" } },
            ],
          },
        ],
      },
    ],
    [
      "tool results of one turn go back in one user message",
      [
        { role: "tool", tool_call_id: "a", content: "1" },
        { role: "tool", tool_call_id: "b", content: "2" },
      ],
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "a", content: "1" },
              { type: "tool_result", tool_use_id: "b", content: "2" },
            ],
          },
        ],
      },
    ],
  ];
  for (const [rule, input, want] of cases) it(rule, () => assert.deepEqual(toAnthropicMessages(input), want));

  it("tool_choice: auto → auto, required → any, none → none, a named function → tool", () => {
    const choice = (tool_choice: unknown) => toAnthropicRequest({ messages: [], tool_choice }, "m", false).tool_choice;
    assert.deepEqual(["auto", "required", "none", { type: "function", function: { name: "f" } }].map(choice), [
      { type: "auto" },
      { type: "any" },
      { type: "none" },
      { type: "tool", name: "f" },
    ]);
  });

  it("max_completion_tokens wins over max_tokens; 4096 when neither is given", () => {
    assert.equal(toAnthropicRequest({ messages: [], max_tokens: 10, max_completion_tokens: 20 }, "m", false).max_tokens, 20);
    assert.equal(toAnthropicRequest({ messages: [] }, "m", false).max_tokens, 4096);
  });

  it("cached prompt tokens count in prompt_tokens, as OpenAI counts them", () => {
    const answer = fromAnthropicMessage({
      id: "msg_1",
      model: "m",
      content: [{ type: "text", text: "x" }],
      stop_reason: "max_tokens",
      usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 10, output_tokens: 7 },
    });
    assert.deepEqual(answer.usage, {
      prompt_tokens: 115,
      completion_tokens: 7,
      total_tokens: 122,
      prompt_tokens_details: { cached_tokens: 100 },
      cache_creation_input_tokens: 10,
    });
    assert.equal((answer.choices as Array<{ finish_reason: string }>)[0]?.finish_reason, "length");
  });

  it("a stream split anywhere, even mid-line, translates the same", () => {
    const events = [
      { type: "message_start", message: { id: "msg_1", model: "m", usage: { input_tokens: 3, output_tokens: 1 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hel" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } },
      { type: "message_stop" },
    ];
    const wire = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
    const whole = new AnthropicStream().feed(Buffer.from(wire));
    const split = new AnthropicStream();
    let pieces = "";
    for (let i = 0; i < wire.length; i += 7) pieces += split.feed(Buffer.from(wire.slice(i, i + 7)));
    pieces += split.end();
    const strip = (s: string) => s.replace(/"created":\d+/g, "");
    assert.equal(strip(pieces), strip(whole));
    const chunks = whole
      .split("\n\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
    assert.equal(chunks.map((c) => (c.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? "").join(""), "hello");
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    assert.ok(whole.endsWith("data: [DONE]\n\n"));
  });
});
