// A LiteLLM config rarely prices its models: tandem prices known ones from
// the price database, says which it cannot, and answers LiteLLM's model
// group and images routes like the others — authorized, limited, charged.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

describe("prices without config, /model_group/info and the images route", () => {
  let proxy: Proxy;
  const newKey = async (body: Record<string, unknown>) => String((await proxy.admin("/key/generate", { body })).json.key);
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
  /** The spend row of one answer, once written. */
  const spendRow = (apiKey: string, count = 1) => proxy.spendRows(`api_key=${apiKey}`, (rows) => rows.length >= count);

  before(async () => {
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => ({
          models: [
            // No prices in the config: LiteLLM users rarely write them.
            '  - model_name: "anthropic/*"',
            "    litellm_params:",
            '      model: "anthropic/*"',
            `      api_base: ${url}`,
            "  - model_name: priced-by-database",
            "    litellm_params:",
            "      model: openai/gpt-4o",
            `      api_base: ${url}`,
            "  - model_name: unpriced",
            "    litellm_params:",
            "      model: hosted_vllm/my-finetune",
            `      api_base: ${url}`,
            "  - model_name: dalle",
            "    litellm_params:",
            "      model: openai/dall-e-3",
            `      api_base: ${url}`,
            "    model_info: {mode: image_generation, output_cost_per_image: 0.04}",
            "  - model_name: gpt-image",
            "    litellm_params:",
            "      model: openai/gpt-image-1",
            `      api_base: ${url}`,
            "      rpm: 1000",
            "    model_info: {mode: image_generation}",
            "  - model_name: moderator",
            "    litellm_params:",
            "      model: openai/omni-moderation-latest",
            `      api_base: ${url}`,
            "    model_info: {mode: moderation}",
          ],
        }),
      },
    );
  });
  after(async () => {
    await proxy?.stop();
  });

  describe("prices", () => {
    it("a known model without config prices is charged at its list price", async () => {
      const key = await newKey({});
      const answer = await client(key).chat.completions.create({
        model: "priced-by-database",
        messages: [{ role: "user", content: "hello" }],
      });
      const usage = answer.usage!;
      const [row] = await spendRow(key);
      // gpt-4o: $2.50 / $10 per million tokens.
      const expected = usage.prompt_tokens * 2.5e-6 + usage.completion_tokens * 10e-6;
      assert.ok(Math.abs(Number(row!.spend) - expected) < 1e-12, `spend ${String(row!.spend)}, expected ${expected}`);
    });

    it("a model with no known price is charged 0, named once in a startup warning and in a metric", async () => {
      const warnings = proxy.logs.messages().filter((m) => m.includes("no price for hosted_vllm/my-finetune"));
      assert.equal(warnings.length, 1, "one startup warning naming it");
      const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
      assert.match(metrics, /tandem_model_unpriced\{model_group="unpriced",deployment="unpriced\/\d+"\} 1/);
      assert.doesNotMatch(metrics, /tandem_model_unpriced\{model_group="priced-by-database"/);
    });

    it("/model/info shows the price in use and where it came from", async () => {
      const info = (await proxy.admin("/model/info")).json.data as Array<{ model_name: string; model_info: Record<string, unknown> }>;
      const of = (name: string) => info.find((m) => m.model_name === name)!.model_info;
      assert.deepEqual([of("priced-by-database").price_source, of("priced-by-database").price_model], ["genai-prices", "gpt-4o"]);
      assert.equal(of("priced-by-database").input_cost_per_token, 2.5e-6);
      assert.equal(of("gpt-4o-mini").price_source, "config");
      assert.equal(of("unpriced").price_source, "unknown");
      assert.equal(of("dalle").output_cost_per_image, 0.04);
    });
  });

  describe("/model_group/info", () => {
    it("answers LiteLLM's shape for the groups the caller may use", async () => {
      const key = await newKey({ models: ["gpt-image", "priced-by-database"] });
      const res = await fetch(`${proxy.base}/model_group/info`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
      const { data } = (await res.json()) as { data: Array<Record<string, unknown>> };
      assert.deepEqual(data.map((g) => g.model_group).sort(), ["gpt-image", "priced-by-database"]);
      const image = data.find((g) => g.model_group === "gpt-image")!;
      assert.deepEqual([image.providers, image.mode, image.rpm, image.tpm], [["openai"], "image_generation", 1000, null]);
      assert.equal(image.input_cost_per_token, 5e-6);
    });

    it("a wildcard group is listed as the concrete models under it (LiteLLM's tests expect anthropic/* expanded)", async () => {
      const res = await proxy.admin("/model_group/info");
      const groups = (res.json.data as Array<{ model_group: string; providers: string[]; input_cost_per_token: number }>).filter((g) =>
        g.model_group.startsWith("anthropic/"),
      );
      assert.ok(!groups.some((g) => g.model_group === "anthropic/*"), "not the pattern itself");
      assert.ok(groups.length > 3, `concrete anthropic models: ${groups.map((g) => g.model_group).join(", ")}`);
      assert.ok(groups.some((g) => /^anthropic\/claude-/.test(g.model_group)));
      for (const group of groups) {
        assert.deepEqual(group.providers, ["anthropic"]);
        assert.ok(group.input_cost_per_token > 0, `${group.model_group} priced from the price database`);
      }
    });

    it("filters by ?model_group=", async () => {
      const res = await proxy.admin("/model_group/info?model_group=dalle");
      assert.deepEqual(
        (res.json.data as Array<{ model_group: string }>).map((g) => g.model_group),
        ["dalle"],
      );
    });
  });

  describe("/moderations, Azure OpenAI's paths, batch completions", () => {
    it("a comma-separated model asks each model and answers a list, each call charged on its own", async () => {
      const key = await newKey({});
      const res = await fetch(`${proxy.base}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini,priced-by-database", messages: [{ role: "user", content: "both of you" }] }),
      });
      assert.equal(res.status, 200);
      const answers = (await res.json()) as Array<{ choices: Array<{ message: { content: string } }> }>;
      assert.deepEqual(
        answers.map((a) => a.choices[0]?.message.content),
        ["echo: both of you", "echo: both of you"],
      );
      const rows = await spendRow(key, 2);
      assert.deepEqual(rows.map((r) => r.model).sort(), ["gpt-4o-mini", "priced-by-database"]);
    });

    it("a batch may not stream, nor name more than 10 models", async () => {
      const send = (body: unknown) =>
        fetch(`${proxy.base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const messages = [{ role: "user", content: "x" }];
      assert.equal((await send({ model: "gpt-4o-mini,gpt-4o-mini", stream: true, messages })).status, 400);
      assert.equal((await send({ model: Array.from({ length: 11 }, () => "gpt-4o-mini").join(","), messages })).status, 400);
    });

    it("/moderations without a model goes to the model_list's moderation model, recorded at 0", async () => {
      const key = await newKey({});
      const res = await fetch(`${proxy.base}/moderations`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ input: "I want to kill the cat." }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { results: unknown[] }).results.length, 1);
      assert.equal(proxy.upstream.requests.at(-1)?.body.model, "omni-moderation-latest");
      const [row] = await spendRow(key);
      assert.deepEqual([row!.spend, (row!.metadata as { call_type: string }).call_type], [0, "amoderation"]);
    });

    it("an AzureOpenAI client's path names the model group: /openai/deployments/{model}/chat/completions", async () => {
      const res = await fetch(`${proxy.base}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
        method: "POST",
        headers: { "api-key": MASTER_KEY, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "via azure path" }] }),
      });
      assert.equal(res.status, 200);
      assert.equal(
        ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content,
        "echo: via azure path",
      );
    });
  });

  describe("/v1/images/generations", () => {
    it("is proxied for a key allowed the model, and charged per image at the deployment's per-image price", async () => {
      const key = await newKey({ models: ["dalle"] });
      const images = await client(key).images.generate({ model: "dalle", prompt: "a lighthouse", n: 3 });
      assert.equal(images.data?.length, 3);
      const [row] = await spendRow(key);
      assert.ok(Math.abs(Number(row!.spend) - 0.12) < 1e-12, `3 images at $0.04: ${String(row!.spend)}`);
      assert.equal((row!.metadata as { call_type: string }).call_type, "aimage_generation");
    });

    it("a token-priced image model is charged from the usage it reports", async () => {
      const key = await newKey({ models: ["gpt-image"] });
      await client(key).images.generate({ model: "gpt-image", prompt: "a lighthouse at dusk" });
      const [row] = await spendRow(key);
      // gpt-image-1: $5 / $40 per million tokens; the fake reports 4 prompt tokens and 1056 per image.
      assert.ok(Math.abs(Number(row!.spend) - (4 * 5e-6 + 1056 * 40e-6)) < 1e-12, String(row!.spend));
    });

    it("refuses a model the key may not use, and a missing prompt with a 400 naming it", async () => {
      const key = await newKey({ models: ["dalle"] });
      await assert.rejects(client(key).images.generate({ model: "gpt-image", prompt: "x" }), (e: { status?: number }) => e.status === 401);
      const res = await fetch(`${proxy.base}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "dalle" }),
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /^prompt/);
    });

    it("counts against the key's rate limit like any call", async () => {
      const key = await newKey({ models: ["dalle"], rpm_limit: 1 });
      await client(key).images.generate({ model: "dalle", prompt: "one" });
      await assert.rejects(client(key).images.generate({ model: "dalle", prompt: "two" }), (e: { status?: number }) => e.status === 429);
    });
  });
});
