// Clients that speak Anthropic's Messages API (the official SDK, Claude Code)
// are served by any model group: translated for an OpenAI-shaped upstream,
// passed through to an Anthropic one; plain, streamed and with tools; with
// keys, budgets, limits and spend as for chat.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { startFakeAnthropic, type FakeAnthropic } from "../test-support/fake-anthropic.js";

describe("POST /v1/messages (Anthropic's format) on any model group", () => {
  let proxy: Proxy;
  let anthropic: FakeAnthropic;
  const client = (apiKey = MASTER_KEY) => new Anthropic({ apiKey, baseURL: proxy.base, maxRetries: 0 });
  const weather = {
    name: "get_weather",
    description: "Weather in a city",
    input_schema: { type: "object" as const, properties: { city: { type: "string" } } },
  };
  const spendRows = (apiKey: string, count: number) => proxy.spendRows(`api_key=${apiKey}`, (rows) => rows.length >= count);

  before(async () => {
    anthropic = await startFakeAnthropic("sk-ant-test");
    proxy = await startProxy(
      {},
      {
        extraConfig: () => ({
          models: [
            "  - model_name: claude",
            "    litellm_params:",
            "      model: anthropic/claude-3-5-sonnet-20241022",
            `      api_base: ${anthropic.url}`,
            "      api_key: sk-ant-test",
          ],
        }),
      },
    );
  });
  after(async () => {
    await proxy?.stop();
    await anthropic?.close();
  });

  for (const [where, model] of [
    ["an OpenAI-shaped upstream (translated)", "gpt-4o-mini"],
    ["an Anthropic upstream (passed through)", "claude"],
  ] as const) {
    describe(where, () => {
      it("answers a message in Anthropic's shape, with usage", async () => {
        const message = await client().messages.create({
          model,
          max_tokens: 256,
          system: "Be brief.",
          messages: [{ role: "user", content: "hello from the sdk" }],
        });
        assert.equal(message.type, "message");
        assert.equal(message.role, "assistant");
        assert.deepEqual(message.content, [{ type: "text", text: "echo: hello from the sdk" }]);
        assert.equal(message.stop_reason, "end_turn");
        assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0, JSON.stringify(message.usage));
      });

      it("streams Anthropic's events; the SDK assembles the same message", async () => {
        const stream = client().messages.stream({ model, max_tokens: 256, messages: [{ role: "user", content: "stream these words" }] });
        let text = "";
        stream.on("text", (piece) => (text += piece));
        const final = await stream.finalMessage();
        assert.equal(text, "echo: stream these words");
        assert.deepEqual(final.content, [{ type: "text", text: "echo: stream these words" }]);
        assert.equal(final.stop_reason, "end_turn");
        assert.ok(final.usage.output_tokens > 0, JSON.stringify(final.usage));
      });

      it("uses tools: a tool_use block comes back (plain and streamed), a tool_result goes out", async () => {
        const asked = await client().messages.create({
          model,
          max_tokens: 256,
          tools: [weather],
          messages: [{ role: "user", content: "what is the weather in Paris?" }],
        });
        const use = asked.content.find((b) => b.type === "tool_use");
        assert.equal(asked.stop_reason, "tool_use", JSON.stringify(asked));
        assert.equal(use?.type === "tool_use" && use.name, "get_weather");
        const streamed = await client()
          .messages.stream({ model, max_tokens: 256, tools: [weather], messages: [{ role: "user", content: "weather please" }] })
          .finalMessage();
        const streamedUse = streamed.content.find((b) => b.type === "tool_use");
        assert.equal(streamed.stop_reason, "tool_use");
        assert.equal(streamedUse?.type === "tool_use" && streamedUse.name, "get_weather");
        assert.ok(use?.type === "tool_use");
        const answered = await client().messages.create({
          model,
          max_tokens: 256,
          tools: [weather],
          messages: [
            { role: "user", content: "what is the weather in Paris?" },
            { role: "assistant", content: [use] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }] },
          ],
        });
        assert.equal(answered.stop_reason, "end_turn");
      });
    });
  }

  it("an OpenAI-shaped upstream receives OpenAI's chat body: tools as functions, tool results as tool messages", async () => {
    await client().messages.create({
      model: "gpt-4o-mini",
      max_tokens: 100,
      system: "sys",
      tools: [weather],
      tool_choice: { type: "any" },
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }] },
      ],
    });
    const sent = proxy.upstream.requests.at(-1)!.body;
    assert.deepEqual(sent.messages, [
      { role: "system", content: "sys" },
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "sunny" },
    ]);
    assert.deepEqual([sent.max_tokens, sent.tool_choice], [100, "required"]);
    assert.deepEqual(sent.tools, [
      { type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: weather.input_schema } },
    ]);
  });

  it("an Anthropic upstream receives the client's own body, fields tandem does not read included", async () => {
    await client().messages.create({
      model: "claude",
      max_tokens: 64,
      messages: [{ role: "user", content: [{ type: "text", text: "cached prefix", cache_control: { type: "ephemeral" } }] }],
    });
    const sent = anthropic.requests.at(-1)!.body;
    assert.equal(sent.model, "claude-3-5-sonnet-20241022");
    assert.deepEqual(sent.messages, [
      { role: "user", content: [{ type: "text", text: "cached prefix", cache_control: { type: "ephemeral" } }] },
    ]);
  });

  it("content only Anthropic takes (a document, a server tool) goes to an Anthropic deployment, with the client's anthropic-beta; elsewhere it is a 400", async () => {
    const body = {
      model: "claude",
      max_tokens: 64,
      tools: [{ type: "web_search_20250305", name: "web_search" }],
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } },
            { type: "text", text: "summarise" },
          ],
        },
      ],
    };
    const send = (model: string) =>
      fetch(`${proxy.base}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": MASTER_KEY, "content-type": "application/json", "anthropic-beta": "some-beta-2025" },
        body: JSON.stringify({ ...body, model }),
      });
    assert.equal((await send("claude")).status, 200);
    const sent = anthropic.requests.at(-1)!;
    assert.deepEqual([sent.body.tools, sent.headers["anthropic-beta"]], [body.tools, "some-beta-2025"]);
    const refused = await send("gpt-4o-mini");
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /^(tools|messages): /);
  });

  it("takes the key in x-api-key, enforces its models, and charges its spend", async () => {
    const key = String((await proxy.admin("/key/generate", { body: { models: ["claude"] } })).json.key);
    const message = await client(key).messages.create({
      model: "claude",
      max_tokens: 64,
      messages: [{ role: "user", content: "bill me" }],
    });
    const [row] = await spendRows(key, 1);
    assert.deepEqual([row!.prompt_tokens, row!.completion_tokens], [message.usage.input_tokens, message.usage.output_tokens]);
    assert.equal((row!.metadata as { call_type: string }).call_type, "anthropic_messages");
    const expected = message.usage.input_tokens * 3e-6 + message.usage.output_tokens * 15e-6;
    assert.ok(Math.abs(Number(row!.spend) - expected) < 1e-12, `spend ${String(row!.spend)} expected ${expected}`);
    await assert.rejects(
      client(key).messages.create({ model: "gpt-4o-mini", max_tokens: 64, messages: [{ role: "user", content: "x" }] }),
      (e: { status?: number }) => e.status === 401,
    );
  });

  it("counts tokens for any model group", async () => {
    const counted = await client().messages.countTokens({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "count these few words" }],
    });
    assert.ok(counted.input_tokens > 4 && counted.input_tokens < 20, String(counted.input_tokens));
  });

  it("a malformed body is a 400 naming the field; a key over its budget is refused in LiteLLM's words", async () => {
    const res = await fetch(`${proxy.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": MASTER_KEY, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude", messages: [{ role: "user", content: "no max_tokens" }] }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /^max_tokens/);
    const broke = String((await proxy.admin("/key/generate", { body: { max_budget: 0 } })).json.key);
    await assert.rejects(
      client(broke).messages.create({ model: "claude", max_tokens: 8, messages: [{ role: "user", content: "x" }] }),
      (e: { status?: number; message?: string }) => e.status === 400 && /Budget has been exceeded/.test(String(e.message)),
    );
  });
});
