import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolvePrice } from "./prices.js";
import { costOf } from "../services/billing/spend.js";

describe("deployment prices", () => {
  const cases: Array<[string, string, string, Record<string, number>, { source: string; input: number; output: number }]> = [
    [
      "config prices win over the database",
      "openai",
      "gpt-4o-mini",
      { input_cost_per_token: 1e-6 },
      { source: "config", input: 1e-6, output: 0 },
    ],
    [
      "an OpenAI model without config prices is priced from the database",
      "openai",
      "gpt-4o-mini",
      {},
      { source: "genai-prices", input: 0.15e-6, output: 0.6e-6 },
    ],
    [
      "a hosted OpenAI-compatible service's models are priced under it",
      "groq",
      "llama-3.1-8b-instant",
      {},
      { source: "genai-prices", input: 0.05e-6, output: 0.08e-6 },
    ],
    [
      "Anthropic models under anthropic/",
      "anthropic",
      "claude-3-5-sonnet-20241022",
      {},
      { source: "genai-prices", input: 3e-6, output: 15e-6 },
    ],
    ["Azure deployments named after the model", "azure", "gpt-35-turbo", {}, { source: "genai-prices", input: 0.5e-6, output: 1.5e-6 }],
    [
      "Bedrock model ids",
      "bedrock",
      "anthropic.claude-3-haiku-20240307-v1:0",
      {},
      { source: "genai-prices", input: 0.25e-6, output: 1.25e-6 },
    ],
    ["a self-hosted server has no list price", "hosted_vllm", "gpt-4o-mini", {}, { source: "unknown", input: 0, output: 0 }],
    ["a model the database does not know", "openai", "echo", {}, { source: "unknown", input: 0, output: 0 }],
  ];
  for (const [rule, provider, model, configured, want] of cases) {
    it(rule, () => {
      const price = resolvePrice(provider, model, configured);
      assert.equal(price.source, want.source);
      assert.ok(Math.abs(price.inputPerToken - want.input) < 1e-15, `input ${price.inputPerToken}`);
      assert.ok(Math.abs(price.outputPerToken - want.output) < 1e-15, `output ${price.outputPerToken}`);
    });
  }

  it("long-context pricing: from the threshold on, the whole call is billed at the higher rates", () => {
    const price = resolvePrice("anthropic", "claude-sonnet-4-5", {});
    assert.equal(price.longContext?.fromPromptTokens, 200_000);
    assert.ok(Math.abs(costOf({ prompt_tokens: 1000, completion_tokens: 1000 }, price) - 0.018) < 1e-12);
    assert.ok(Math.abs(costOf({ prompt_tokens: 250_000, completion_tokens: 1000 }, price) - 1.5225) < 1e-12);
  });

  it("dall-e models are priced per image from OpenAI's list, even where the config priced their tokens", () => {
    assert.deepEqual(resolvePrice("openai", "dall-e-3", {}), {
      inputPerToken: 0,
      outputPerToken: 0,
      perImage: 0.04,
      source: "openai-image-prices",
    });
    assert.equal(resolvePrice("openai", "dall-e-2", { input_cost_per_token: 1e-6 }).perImage, 0.02);
  });

  it("prompt tokens read from or written to the provider's cache are billed at their own prices", () => {
    const price = resolvePrice("anthropic", "claude-3-5-sonnet-20241022", {});
    assert.deepEqual([price.cacheReadPerToken, price.cacheWritePerToken], [0.3e-6, 3.75e-6]);
    // 1000 fresh, 10 000 read from the cache, 2000 written to it, 100 out.
    const cost = costOf({ prompt_tokens: 13_000, completion_tokens: 100, cached_tokens: 10_000, cache_creation_tokens: 2000 }, price);
    assert.ok(Math.abs(cost - (1000 * 3e-6 + 10_000 * 0.3e-6 + 2000 * 3.75e-6 + 100 * 15e-6)) < 1e-12, String(cost));
    const configured = resolvePrice("openai", "x", { input_cost_per_token: 1e-6, cache_read_input_token_cost: 1e-7 });
    assert.equal(costOf({ prompt_tokens: 10, completion_tokens: 0, cached_tokens: 10 }, configured), 1e-6);
  });

  it("an image model priced per image charges per image generated", () => {
    const price = resolvePrice("openai", "dall-e-3", { output_cost_per_image: 0.04 });
    assert.equal(costOf({ prompt_tokens: 0, completion_tokens: 0 }, price, 3), 0.12);
  });
});
