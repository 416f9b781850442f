// LiteLLM's config format: model_list entries, os.environ/ references, costs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ModelConfigError, parseModelConfig } from "./model-config.js";
import { scrub } from "../observability/secrets.js";

const litellm = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: https://upstream.example.com/v1/
      api_key: os.environ/OPENAI_API_KEY
    model_info:
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
  - model_name: local
    litellm_params:
      model: llama3
      api_base: http://127.0.0.1:8080/v1
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

describe("model config (LiteLLM format)", () => {
  it("reads model_list: upstream model without the provider prefix, api_key from the environment, costs per token", () => {
    const models = parseModelConfig(litellm, "config.yaml", { OPENAI_API_KEY: "sk-upstream-key-123" });
    assert.deepEqual(models.get("gpt-4o-mini"), {
      name: "gpt-4o-mini",
      upstreamModel: "gpt-4o-mini",
      apiBase: "https://upstream.example.com/v1",
      apiKey: "sk-upstream-key-123",
      timeoutMs: 600_000,
      inputCostPerToken: 0.00000015,
      outputCostPerToken: 0.0000006,
    });
    assert.equal(models.get("local")?.upstreamModel, "llama3");
    assert.equal(models.get("local")?.inputCostPerToken, 0);
    assert.equal(scrub("key sk-upstream-key-123"), "key [REDACTED]", "the resolved upstream key is a registered secret");
  });

  const bad: Array<[string, string, Record<string, string>, RegExp]> = [
    [
      "a missing environment variable",
      litellm,
      {},
      /^config\.yaml: model_list\[0\]\.litellm_params\.api_key reads OPENAI_API_KEY from the environment, which is not set$/,
    ],
    ["invalid YAML", "model_list: [", {}, /^config\.yaml: not valid YAML/],
    [
      "a missing model",
      "model_list:\n  - model_name: a\n    litellm_params:\n      api_base: http://x/v1\n",
      {},
      /^config\.yaml: model_list\[0\]\.litellm_params\.model /,
    ],
    [
      "a negative cost",
      "model_list:\n  - model_name: a\n    litellm_params: {model: a, api_base: 'http://x'}\n    model_info: {input_cost_per_token: -1}\n",
      {},
      /model_list\[0\]\.model_info\.input_cost_per_token/,
    ],
    [
      "a duplicate model_name",
      "model_list:\n  - {model_name: a, litellm_params: {model: a, api_base: 'http://x'}}\n  - {model_name: a, litellm_params: {model: b, api_base: 'http://y'}}\n",
      {},
      /model_list\[1\]\.model_name "a" is listed twice/,
    ],
  ];
  for (const [what, text, env, message] of bad) {
    it(`refuses ${what} with a message naming the entry`, () => {
      assert.throws(
        () => parseModelConfig(text, "config.yaml", env),
        (error: unknown) => error instanceof ModelConfigError && message.test(error.message),
      );
    });
  }
});
