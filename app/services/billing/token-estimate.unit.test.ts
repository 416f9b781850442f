import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodingFor, estimateUsage, countTextTokens } from "./token-estimate.js";

describe("token estimates for usage the upstream never reported", () => {
  const encodings: Array<[string, string]> = [
    ["gpt-4o-mini", "o200k_base"],
    ["openai/gpt-4o", "o200k_base"],
    ["o3-mini", "o200k_base"],
    ["gpt-4.1", "o200k_base"],
    ["gpt-4-turbo", "cl100k_base"],
    ["gpt-3.5-turbo", "cl100k_base"],
    ["some-local-llama", "o200k_base"],
  ];
  for (const [model, encoding] of encodings) it(`${model} → ${encoding}`, () => assert.equal(encodingFor(model), encoding));

  it("text spelling a special token is counted as text, never refused", () => {
    assert.ok(countTextTokens("gpt-4o", "a <|endoftext|> b") > 3);
    assert.ok(countTextTokens("gpt-4", "<|endoftext|>") > 1);
  });

  it("counts with the real BPE (not words): 'hello world' is 2 tokens, 'antidisestablishmentarianism' several", () => {
    assert.equal(countTextTokens("gpt-4o", "hello world"), 2);
    assert.ok(countTextTokens("gpt-4o", "antidisestablishmentarianism") > 1);
  });

  it("prompt = messages' text + per-message overhead; completion = the text streamed so far", () => {
    const usage = estimateUsage("gpt-4o", [{ role: "user", content: "hello world" }], "echo: hello");
    assert.equal(usage.prompt_tokens, 3 + 3 + countTextTokens("gpt-4o", "user") + 2);
    assert.equal(usage.completion_tokens, countTextTokens("gpt-4o", "echo: hello"));
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });
});
