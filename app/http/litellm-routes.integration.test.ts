// A LiteLLM user's day one, through the official OpenAI client: model lists,
// embeddings, legacy completions, streams that carry exactly what the client
// asked for, load-balanced deployments with one failing, retries, fallbacks
// and cooldown, LiteLLM's auth headers — on a real primary/replica pair.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { MASTER_KEY, modelEntry, startProxy, type Proxy } from "../test-support/proxy.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { appRoot } from "../paths.js";

describe("LiteLLM's OpenAI routes and router", () => {
  let proxy: Proxy;
  let key: string;

  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
  const newKey = async (body: Record<string, unknown> = {}) => {
    const { status, json } = await proxy.admin("/key/generate", { body });
    assert.equal(status, 200, JSON.stringify(json));
    return json.key as string;
  };
  /** Upstream requests for this upstream model since `from`. */
  const upstreamCalls = (model: string, from = 0) => proxy.upstream.requests.slice(from).filter((r) => r.body.model === model).length;
  /** The key's spend row that matches, once written and replayed (spend is written in batches, after the response). */
  const spendRow = async (apiKey: string, match: (row: Record<string, unknown>) => boolean) =>
    (await proxy.spendRows(`api_key=${apiKey}`, (rows) => rows.some(match))).find(match)!;

  before(async () => {
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => ({
          models: [
            // One group, two deployments: load balancing.
            ...modelEntry("balanced", "echo", url, { id: "balanced-a" }),
            ...modelEntry("balanced", "echo", url, { id: "balanced-b" }),
            // One of two deployments down: retried on the other, then cooled down.
            ...modelEntry("flaky", "fail-500", url, { id: "flaky-down" }),
            ...modelEntry("flaky", "echo", url, { id: "flaky-up" }),
            // A group whose only deployment is down falls back to gpt-4o-mini.
            ...modelEntry("down", "fail-500", url, { id: "down-only" }),
            ...modelEntry("embedder", "embed", url, { id: "embedder-1", mode: "embedding" }),
          ],
          sections: [
            "router_settings:",
            "  num_retries: 2",
            "  allowed_fails: 1",
            "  cooldown_time: 600",
            "  fallbacks: [{down: [gpt-4o-mini]}]",
          ].join("\n"),
        }),
      },
    );
    key = await newKey({ models: ["gpt-4o-mini", "balanced", "embedder"] });
  });
  after(async () => {
    await proxy?.stop();
  });

  it("/health/readiness carries LiteLLM's litellm_version, cache and success_callbacks beside tandem's db and redis", async () => {
    const body = (await (await fetch(`${proxy.base}/health/readiness`)).json()) as Record<string, unknown>;
    const { version } = JSON.parse(readFileSync(join(appRoot, "package.json"), "utf8")) as { version: string };
    assert.deepEqual(
      [body.status, body.litellm_version, body.cache, body.success_callbacks, body.redis],
      ["healthy", version, null, [], "disabled"],
    );
    assert.equal((body.db as { writer: string }).writer, "connected");
  });

  describe("model lists", () => {
    it("client.models.list() lists only the models the key may use", async () => {
      const ids = [];
      for await (const model of client(key).models.list()) ids.push(model.id);
      assert.deepEqual(ids.sort(), ["balanced", "embedder", "gpt-4o-mini"]);
    });

    it("the master key sees every configured group; /models answers like /v1/models", async () => {
      const page = await client(MASTER_KEY).models.list();
      assert.ok(page.data.some((m) => m.id === "flaky") && page.data.every((m) => m.object === "model"));
      const plain = await proxy.admin("/models");
      assert.deepEqual((plain.json.data as Array<{ id: string }>).map((m) => m.id).sort(), page.data.map((m) => m.id).sort());
    });

    it("/model/info lists each deployment with its id, mode and prices, never its api_key", async () => {
      const res = await fetch(`${proxy.base}/model/info`, { headers: { authorization: `Bearer ${key}` } });
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.doesNotMatch(text, /sk-upstream-secret/);
      const data = (JSON.parse(text) as { data: Array<{ model_name: string; model_info: { id: string; mode: string } }> }).data;
      assert.deepEqual(data.map((d) => d.model_info.id).sort(), ["balanced-a", "balanced-b", "embedder-1", "gpt-4o-mini/0"]);
      assert.equal(data.find((d) => d.model_info.id === "embedder-1")?.model_info.mode, "embedding");
    });
  });

  describe("embeddings and completions", () => {
    it("embeddings.create works, is access-checked, and is charged as LiteLLM's aembedding", async () => {
      const result = await client(key).embeddings.create({ model: "embedder", input: ["one two", "three"] });
      assert.equal(result.data.length, 2);
      assert.equal(result.usage.prompt_tokens, 3);
      const row = await spendRow(key, (r) => r.call_type === "aembedding");
      assert.deepEqual([row.prompt_tokens, row.completion_tokens, row.model], [3, 0, "embedder"]);
      const narrow = await newKey({ models: ["gpt-4o-mini"] });
      await assert.rejects(
        client(narrow).embeddings.create({ model: "embedder", input: "x" }),
        (e: unknown) => (e as { status?: number }).status === 401,
      );
    });

    it("completions.create (legacy) works, and is charged as atext_completion", async () => {
      const result = await client(key).completions.create({ model: "gpt-4o-mini", prompt: "say this" });
      assert.equal(result.choices[0]?.text, "echo: say this");
      const row = await spendRow(key, (r) => r.call_type === "atext_completion");
      assert.equal(row.completion_tokens, 3);
    });

    it("a missing input or prompt is a 400 naming the field", async () => {
      for (const [path, field] of [
        ["/v1/embeddings", "input"],
        ["/completions", "prompt"],
      ]) {
        const res = await fetch(`${proxy.base}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini" }),
        });
        const body = (await res.json()) as { error: { param: string } };
        assert.deepEqual([res.status, body.error.param], [400, field], path);
      }
    });
  });

  describe("streams forward exactly what the client asked for", () => {
    it("without stream_options.include_usage: no usage-only chunk reaches the client (chunk.choices[0] is always there), and the spend is still exact", async () => {
      const stream = await client(key).chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hello world" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) {
        assert.ok(chunk.choices[0], `every chunk has a choice: ${JSON.stringify(chunk)}`);
        text += chunk.choices[0].delta.content ?? "";
      }
      assert.equal(text, "echo: hello world");
      const last = proxy.upstream.requests.at(-1)?.body;
      assert.deepEqual(last?.stream_options, { include_usage: true }, "tandem still asks the upstream for usage");
      const row = await spendRow(key, (r) => r.call_type === "acompletion" && r.prompt_tokens === 2);
      assert.equal(row.completion_tokens, 3, "charged with the upstream's usage");
      assert.deepEqual(row.metadata, { call_type: "acompletion" }, "not an estimate");
    });

    it("with include_usage: the usage chunk arrives, as OpenAI sends it", async () => {
      const stream = await client(key).chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hello world" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.deepEqual(chunks.at(-1)?.choices, []);
      assert.equal(chunks.at(-1)?.usage?.total_tokens, 5);
    });
  });

  describe("router: load balancing, retries, fallbacks, cooldown", () => {
    const ask = (model: string, apiKey = MASTER_KEY) =>
      client(apiKey)
        .chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] })
        .withResponse();

    it("a group's deployments share its traffic", async () => {
      const served = new Set<string>();
      for (let i = 0; i < 40 && served.size < 2; i++) served.add((await ask("balanced")).response.headers.get("x-litellm-model-id") ?? "");
      assert.deepEqual([...served].sort(), ["balanced-a", "balanced-b"]);
    });

    it("a failing deployment is retried on the other before the client sees an error; past allowed_fails it cools down and gets no traffic", async () => {
      const from = proxy.upstream.requests.length;
      for (let i = 0; i < 30; i++) {
        const { data, response } = await ask("flaky");
        assert.equal(data.choices[0]?.message.content, "echo: hi");
        assert.equal(response.headers.get("x-litellm-model-id"), "flaky-up");
      }
      // allowed_fails 1: the second failure within a minute cools it down for 600 s.
      assert.equal(upstreamCalls("fail-500", from), 2, "tried twice, then left alone");
      const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
      assert.match(metrics, /tandem_upstream_attempts_total\{model_group="flaky",deployment="flaky-down",outcome="retried"\} 2/);
      const info = (await proxy.admin("/model/info")).json.data as Array<{ model_info: { id: string; cooling_down: boolean } }>;
      assert.equal(info.find((d) => d.model_info.id === "flaky-down")?.model_info.cooling_down, true);
    });

    it("a group whose deployment keeps failing falls back to the configured group after num_retries", async () => {
      const from = proxy.upstream.requests.length;
      const { data, response } = await ask("down");
      assert.equal(data.choices[0]?.message.content, "echo: hi");
      assert.equal(response.headers.get("x-litellm-model-group"), "gpt-4o-mini");
      assert.equal(upstreamCalls("fail-500", from), 3, "1 try + num_retries 2 on the failing group first");
    });

    it("a 429 from a group's only deployment is retried num_retries times, then relayed to the client", async () => {
      const from = proxy.upstream.requests.length;
      await assert.rejects(ask("limited"), (e: unknown) => (e as { status?: number }).status === 429);
      assert.equal(upstreamCalls("fail-429", from), 3, "1 try + 2 retries");
    });
  });

  describe("LiteLLM's auth headers", () => {
    it("x-litellm-api-key works beside Authorization: Bearer", async () => {
      const res = await fetch(`${proxy.base}/v1/models`, { headers: { "x-litellm-api-key": key } });
      assert.equal(res.status, 200);
      const bearer = await fetch(`${proxy.base}/v1/models`, { headers: { "x-litellm-api-key": `Bearer ${key}` } });
      assert.equal(bearer.status, 200);
    });

    it("a wrong key in x-litellm-api-key is LiteLLM's 401 token_not_found_in_db", async () => {
      const res = await fetch(`${proxy.base}/v1/models`, { headers: { "x-litellm-api-key": "sk-wrong" } });
      const body = (await res.json()) as { error: Record<string, unknown> };
      assert.equal(res.status, 401);
      assert.deepEqual([body.error.type, body.error.param, body.error.code], ["token_not_found_in_db", "key", "401"]);
    });
  });
});
