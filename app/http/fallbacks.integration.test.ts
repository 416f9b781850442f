// Fallbacks, retries and timeouts as LiteLLM's router does them, through the HTTP API against a real
// upstream process and a real primary/replica pair: which group answers a request its model cannot
// serve, what the answer's x-litellm-* headers say, what the upstream was sent, and a config entry
// tandem cannot serve answering why while the rest of the file serves.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, modelEntry, startProxy, type Proxy } from "../test-support/proxy.js";

/** What a test reads of a chat answer or an error. */
type Answer = {
  error: { message: string; param: string | null };
  choices: Array<{ message: { content: string } }>;
  usage: Record<string, number>;
  id: string;
};

describe("fallbacks, retries and timeouts (LiteLLM's router)", () => {
  let proxy: Proxy;
  const chat = async (body: Record<string, unknown>, key = MASTER_KEY, headers: Record<string, string> = {}) => {
    const res = await fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ messages: [{ role: "user", content: "Who was Alexander?" }], ...body }),
    });
    const json = (await res.json()) as Answer;
    return { status: res.status, json, header: (name: string) => res.headers.get(name) };
  };
  const sentTo = (upstreamModel: string) => proxy.upstream.requests.filter((r) => r.body.model === upstreamModel);
  const longPrompt = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ");

  before(async () => {
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => ({
          models: [
            ...modelEntry("small", "small-context", url),
            ...modelEntry("large", "echo", url, { id: "large-1" }),
            ...modelEntry("guarded", "moderated", url),
            ...modelEntry("lenient", "echo", url, { id: "lenient-1" }),
            ...modelEntry("badly-configured", "echo", "http://127.0.0.1:9/v1"),
            ...modelEntry("backup", "echo", url, { id: "backup-1" }),
            ...modelEntry("many-retries", "echo", url, { id: "many-retries-1", params: { num_retries: 50 } }),
            ...modelEntry("one-second", "echo", url, { id: "one-second-1", timeout: 1 }),
            ...modelEntry("gpt-instruct", "echo", url),
            // A 20-token window, known from the config: with enable_pre_call_checks, never sent a longer prompt.
            ...modelEntry("sized", "sized-model", url),
            "      max_input_tokens: 20",
            ...modelEntry("sized-alone", "sized-model", url),
            "      max_input_tokens: 20",
            "  - model_name: sagemaker-model",
            "    litellm_params:",
            "      model: sagemaker/berri-benchmarking-Llama-2-70b-chat-hf-4",
          ],
          sections: [
            "litellm_settings:",
            "  context_window_fallbacks: [{small: [large]}, {sized: [large]}]",
            "  content_policy_fallbacks: [{guarded: [lenient]}]",
            "router_settings:",
            "  enable_pre_call_checks: true",
            "  fallbacks: [{badly-configured: [backup]}]",
            "  model_group_alias: {my-alias: backup, old-name: {model: backup, hidden: true}}",
          ].join("\n"),
        }),
      },
    );
  });
  after(async () => {
    await proxy?.stop();
  });

  it("a prompt longer than the model's context window is answered by its context_window_fallbacks, without a retry", async () => {
    const before = sentTo("small-context").length;
    const res = await chat({ model: "small", messages: [{ role: "user", content: longPrompt }] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual([res.header("x-litellm-model-id"), res.header("x-litellm-attempted-fallbacks")], ["large-1", "1"]);
    assert.equal(sentTo("small-context").length - before, 1, "a prompt too long is not retried on the same model");
  });

  it("content the provider refuses goes to content_policy_fallbacks", async () => {
    const res = await chat({ model: "guarded", messages: [{ role: "user", content: "something forbidden" }] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.header("x-litellm-model-id"), "lenient-1");
  });

  it("an unreachable deployment is answered by the config's fallbacks, and the request's own fallbacks replace them", async () => {
    const configured = await chat({ model: "badly-configured" });
    assert.equal(configured.status, 200, JSON.stringify(configured.json));
    assert.deepEqual([configured.header("x-litellm-model-id"), configured.header("x-litellm-attempted-fallbacks")], ["backup-1", "1"]);
    const own = await chat({ model: "badly-configured", fallbacks: ["large"], num_retries: 0 });
    assert.deepEqual([own.status, own.header("x-litellm-model-id")], [200, "large-1"]);
  });

  it("a client-side fallback may bring its own messages, and its model must be one the key may use", async () => {
    const allowed = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini", "gpt-instruct"] } })).json.key as string;
    const narrow = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    const fallbacks = [{ model: "gpt-instruct", messages: [{ role: "assistant", content: "This is a custom message" }] }];
    const ok = await chat({ model: "gpt-4o-mini", mock_testing_fallbacks: true, fallbacks }, allowed);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.header("x-litellm-attempted-fallbacks"), "1");
    const sent = proxy.upstream.requests.at(-1)!.body;
    assert.deepEqual(sent.messages, fallbacks[0]!.messages, "the fallback's own messages were sent");
    assert.equal("fallbacks" in sent || "mock_testing_fallbacks" in sent, false, "LiteLLM's routing fields are not sent upstream");
    const before = proxy.upstream.requests.length;
    const refused = await chat({ model: "gpt-4o-mini", mock_testing_fallbacks: true, fallbacks }, narrow);
    assert.equal(refused.status, 401, JSON.stringify(refused.json));
    assert.equal(refused.json.error.param, "fallbacks");
    assert.match(refused.json.error.message, /^fallbacks\[0\]: key not allowed to access model/);
    assert.equal(proxy.upstream.requests.length, before, "refused before any upstream call");
  });

  it("mock_testing_rate_limit_error: the first call is a 429 and one retry answers, within the deployment's num_retries", async () => {
    const res = await chat({ model: "many-retries", mock_testing_rate_limit_error: true });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual([res.header("x-litellm-attempted-retries"), res.header("x-litellm-max-retries")], ["1", "50"]);
    const cooling = (await proxy.admin("/model/info")).json.data as Array<{ model_info: { id: string; cooling_down?: boolean } }>;
    assert.equal(
      cooling.find((m) => m.model_info.id === "many-retries-1")?.model_info.cooling_down,
      false,
      "a mocked failure cools nothing down",
    );
  });

  it("mock_timeout times the call out after the deployment's timeout, or the request's x-litellm-timeout, which the answer names", async () => {
    const own = await chat({ model: "one-second", mock_timeout: true, num_retries: 0 });
    assert.equal(own.status, 408, JSON.stringify(own.json));
    assert.equal(own.header("x-litellm-timeout"), "1.0");
    const asked = await chat({ model: "one-second", mock_timeout: true, num_retries: 0 }, MASTER_KEY, { "x-litellm-timeout": "0.001" });
    assert.deepEqual([asked.status, asked.header("x-litellm-timeout")], [408, "0.001"]);
  });

  it("a request's timeout bounds a real upstream's wait", async () => {
    const res = await chat({ model: "hanging", timeout: 0.2, num_retries: 0 });
    assert.equal(res.status, 504, JSON.stringify(res.json));
    assert.match(res.json.error.message, /timed out after 0\.2s/);
    assert.equal(res.header("x-litellm-timeout"), "0.2");
  });

  it("mock_response answers without an upstream call, and is charged like any answer", async () => {
    const before = proxy.upstream.requests.length;
    const res = await chat({ model: "gpt-4o-mini", mock_response: "This is a mock" });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.choices[0]?.message.content, "This is a mock");
    assert.deepEqual(res.json.usage, { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 });
    assert.equal(proxy.upstream.requests.length, before);
    const rows = await proxy.spendRows("", (rows) => rows.some((r) => r.request_id === res.json.id || r.total_tokens === 30));
    assert.ok(rows.some((r) => r.total_tokens === 30));
  });

  it("enable_pre_call_checks: a prompt longer than max_input_tokens goes to the context_window_fallbacks without calling the model; with none, a 400 naming messages", async () => {
    const res = await chat({ model: "sized", messages: [{ role: "user", content: longPrompt }] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual([res.header("x-litellm-model-id"), res.header("x-litellm-attempted-fallbacks")], ["large-1", "1"]);
    const alone = await chat({ model: "sized-alone", messages: [{ role: "user", content: longPrompt }] });
    assert.equal(alone.status, 400, JSON.stringify(alone.json));
    assert.equal(alone.json.error.param, "messages");
    assert.match(alone.json.error.message, /exceed the context window .* sized-alone \(max_input_tokens 20/);
    assert.equal(sentTo("sized-model").length, 0);
    // A prompt that fits is served by the model itself.
    const short = await chat({ model: "sized", messages: [{ role: "user", content: "Hi" }] });
    assert.deepEqual([short.status, sentTo("sized-model").length], [200, 1]);
  });

  it("model_group_alias: the alias is served by its group, and listed; a hidden one serves but is not listed", async () => {
    const res = await chat({ model: "my-alias" });
    assert.deepEqual([res.status, res.header("x-litellm-model-id")], [200, "backup-1"]);
    const hidden = await chat({ model: "old-name" });
    assert.deepEqual([hidden.status, hidden.header("x-litellm-model-id")], [200, "backup-1"]);
    const models = (await (await fetch(`${proxy.base}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json()) as {
      data: Array<{ id: string }>;
    };
    assert.ok(models.data.some((m) => m.id === "my-alias"));
    assert.ok(!models.data.some((m) => m.id === "old-name"));
  });

  it("an entry tandem cannot serve (sagemaker/) leaves the rest serving: a call to it is a 400 naming the provider; /model/info and the metrics say so", async () => {
    const res = await chat({ model: "sagemaker-model" });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error.param, "model");
    assert.match(res.json.error.message, /provider "sagemaker" is not served by tandem/);
    const info = (await proxy.admin("/model/info")).json.data as Array<{ model_name: string; model_info: Record<string, unknown> }>;
    assert.match(String(info.find((m) => m.model_name === "sagemaker-model")?.model_info.tandem_unserved), /sagemaker/);
    assert.ok(proxy.logs.messages().some((m) => /sagemaker-model \(sagemaker-model\/\d+\) is not served/.test(m)));
    const metrics = await (await fetch(`${proxy.base}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
    assert.match(
      metrics,
      /tandem_model_unserved\{model_group="sagemaker-model",deployment="sagemaker-model\/\d+",provider="sagemaker"\} 1/,
    );
  });

  it("malformed routing fields are a 400 naming the field, before any upstream call", async () => {
    const before = proxy.upstream.requests.length;
    for (const [body, field] of [
      [{ fallbacks: "large" }, "fallbacks"],
      [{ num_retries: -1 }, "num_retries"],
      [{ timeout: "soon" }, "timeout"],
      [{ fallbacks: ["gpt-9"] }, "fallbacks"],
    ] as const) {
      const res = await chat({ model: "gpt-4o-mini", ...body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.param, field);
    }
    assert.equal(proxy.upstream.requests.length, before);
  });
});
