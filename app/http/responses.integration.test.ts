// Clients of OpenAI's Responses API are served by any model group: OpenAI-
// compatible and Azure deployments take the request as it came (and keep the
// response, so previous_response_id and retrieval reach the deployment that
// made it), Anthropic deployments get its chat translation; with keys,
// budgets and spend as for chat.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { MASTER_KEY, modelEntry, startProxy, type Proxy } from "../test-support/proxy.js";
import { startFakeAnthropic, type FakeAnthropic } from "../test-support/fake-anthropic.js";
import { decodeResponseId } from "../services/upstream/formats/response-id.js";

describe("the Responses API (/v1/responses) on any model group", () => {
  let proxy: Proxy;
  let anthropic: FakeAnthropic;
  const client = (apiKey = MASTER_KEY) => new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
  const post = (body: unknown, key = MASTER_KEY) =>
    fetch(`${proxy.base}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; param?: string } }).error;
  const weather = {
    type: "function" as const,
    name: "get_weather",
    description: "Weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
    strict: false,
  };

  before(async () => {
    anthropic = await startFakeAnthropic("sk-ant-test");
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => ({
          models: [
            "  - model_name: claude",
            "    litellm_params:",
            "      model: anthropic/claude-3-5-sonnet-20241022",
            `      api_base: ${anthropic.url}`,
            "      api_key: sk-ant-test",
            // One group over two provider accounts: each keeps only its own responses.
            ...modelEntry("keeper", "keeper-a", url, { id: "keeper-a" }),
            ...modelEntry("keeper", "keeper-b", url, { id: "keeper-b" }),
            "  - model_name: azure-gpt",
            "    litellm_params:",
            "      model: azure/my-gpt-deployment",
            `      api_base: ${url.replace(/\/v1$/, "")}`,
            "      api_key: sk-azure-test",
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
    ["an OpenAI-compatible deployment (natively)", "gpt-4o-mini"],
    ["an Anthropic deployment (translated)", "claude"],
  ] as const) {
    describe(where, () => {
      it("answers with output items, output_text and usage", async () => {
        const response = await client().responses.create({ model, instructions: "Be brief.", input: "hello responses" });
        assert.equal(response.object, "response");
        assert.equal(response.status, "completed");
        assert.equal(response.output_text, "echo: hello responses");
        assert.equal(response.output[0]?.type, "message");
        assert.ok(response.usage!.input_tokens > 0 && response.usage!.output_tokens > 0, JSON.stringify(response.usage));
        assert.equal(response.usage!.total_tokens, response.usage!.input_tokens + response.usage!.output_tokens);
      });

      it("streams the API's events; the SDK assembles the same response", async () => {
        const stream = client().responses.stream({ model, input: "stream these words" });
        const types: string[] = [];
        let text = "";
        for await (const event of stream) {
          types.push(event.type);
          if (event.type === "response.output_text.delta") text += event.delta;
        }
        const final = await stream.finalResponse();
        assert.equal(text, "echo: stream these words");
        assert.equal(final.output_text, "echo: stream these words");
        assert.deepEqual([types[0], types[1], types.at(-1)], ["response.created", "response.in_progress", "response.completed"]);
        assert.ok(final.usage!.output_tokens > 0);
      });
    });
  }

  it("a deployment that speaks the API gets the client's own body at /responses, its model name swapped in", async () => {
    await client().responses.create({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: [{ type: "input_text", text: "as sent" }] }],
      store: true,
      tools: [{ type: "web_search_preview" }],
    });
    const sent = proxy.upstream.requests.at(-1)!;
    assert.equal(sent.path, "/responses");
    assert.equal(sent.authorization, "Bearer sk-upstream-secret");
    assert.deepEqual(
      [sent.body.model, sent.body.input, sent.body.store, sent.body.tools],
      ["echo", [{ role: "user", content: [{ type: "input_text", text: "as sent" }] }], true, [{ type: "web_search_preview" }]],
    );
    await client().responses.create({ model: "azure-gpt", input: "to azure" });
    const azure = proxy.upstream.requests.at(-1)!;
    assert.deepEqual([azure.url, azure.apiKey, azure.body.model], ["/openai/v1/responses", "sk-azure-test", "my-gpt-deployment"]);
  });

  it("previous_response_id reaches the deployment that keeps the response, from a group of two, every time", async () => {
    let previous = await client().responses.create({ model: "keeper", input: "turn 0" });
    for (let turn = 1; turn <= 8; turn++) {
      const origin = decodeResponseId(previous.id);
      assert.ok(origin, `tandem's id names the deployment: ${previous.id}`);
      const next = await client().responses.create({ model: "keeper", input: `turn ${turn}`, previous_response_id: previous.id });
      const sent = proxy.upstream.requests.at(-1)!;
      // The upstream is sent its own id, and the answering deployment is the one that made it.
      assert.equal(sent.body.previous_response_id, origin.upstreamId);
      assert.equal(sent.body.model, origin.deploymentId);
      assert.match(next.output_text, new RegExp(`^echo: turn ${turn} \\(after: `));
      previous = next;
    }
  });

  it("a kept response is retrieved, its input items listed and deleted through tandem", async () => {
    const made = await client().responses.create({ model: "keeper", input: "keep me" });
    const got = await client().responses.retrieve(made.id);
    assert.deepEqual([got.id, got.output_text], [made.id, "echo: keep me"]);
    const items = await client().responses.inputItems.list(made.id);
    assert.equal(items.data.length, 1);
    const deleted = (await client().responses.delete(made.id)) as unknown as { id: string; deleted: boolean };
    assert.deepEqual([deleted.id, deleted.deleted], [made.id, true]);
    await assert.rejects(client().responses.retrieve(made.id), (e: { status?: number }) => e.status === 404);
    const unknown = await fetch(`${proxy.base}/v1/responses/resp_not-tandems`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    assert.equal(unknown.status, 404);
    assert.match((await errorOf(unknown)).message, /^response_id: resp_not-tandems is not a response id tandem handed out/);
  });

  it("a key may act only on responses of models it may use", async () => {
    const made = await client().responses.create({ model: "keeper", input: "mine" });
    const key = String((await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key);
    await assert.rejects(client(key).responses.retrieve(made.id), (e: { status?: number }) => e.status === 401);
  });

  it("function tools round-trip through a translated deployment (plain and streamed)", async () => {
    const asked = await client().responses.create({ model: "claude", tools: [weather], input: "what is the weather in Paris?" });
    const call = asked.output.find((item) => item.type === "function_call");
    assert.ok(call?.type === "function_call", JSON.stringify(asked.output));
    assert.deepEqual([call.name, JSON.parse(call.arguments)], ["get_weather", { city: "Paris" }]);
    const streamed = await client()
      .responses.stream({ model: "claude", tools: [weather], input: "weather please" })
      .finalResponse();
    const streamedCall = streamed.output.find((item) => item.type === "function_call");
    assert.ok(streamedCall?.type === "function_call" && streamedCall.name === "get_weather", JSON.stringify(streamed.output));
    const answered = await client().responses.create({
      model: "claude",
      tools: [weather],
      input: [
        { role: "user", content: "what is the weather in Paris?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "sunny" },
      ],
    });
    assert.equal(answered.status, "completed");
    const sent = anthropic.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ["user", "assistant", "user"],
    );
  });

  it("what only the API's own deployments take is a 400 naming the field on a translated one", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ previous_response_id: "resp_abc" }, /^previous_response_id: /],
      [{ tools: [{ type: "web_search_preview" }] }, /^tools\[0\]: /],
      [{ input: [{ type: "file_search_call", id: "fs_1" }] }, /^input\[0\]: /],
    ];
    for (const [fields, message] of cases) {
      const res = await post({ model: "claude", input: "x", ...fields });
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.match((await errorOf(res)).message, message);
    }
    const hot = await post({ model: "gpt-4o-mini", input: "x", temperature: 2000 });
    assert.equal(hot.status, 400);
    assert.equal((await errorOf(hot)).param, "temperature");
    const unknown = await post({ model: "no-such-model", input: "x" });
    assert.equal(unknown.status, 400);
  });

  it("charges the key (native and translated, plain and streamed) as call_type aresponses; a key over budget is refused", async () => {
    const key = String((await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini", "claude"] } })).json.key);
    const native = await client(key).responses.create({ model: "gpt-4o-mini", input: "bill me" });
    const translated = await client(key).responses.create({ model: "claude", input: "bill me too" });
    const streamed = await client(key).responses.stream({ model: "gpt-4o-mini", input: "bill my stream" }).finalResponse();
    const rows = await proxy.spendRows(`api_key=${key}`, (found) => found.length >= 3);
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    for (const response of [native, translated, streamed]) {
      const row = byId.get(response.id);
      assert.ok(row, `a spend row under the id the client got: ${response.id} in ${[...byId.keys()].join(", ")}`);
      assert.deepEqual([row.prompt_tokens, row.completion_tokens], [response.usage!.input_tokens, response.usage!.output_tokens]);
      assert.equal((row.metadata as { call_type: string }).call_type, "aresponses");
      assert.ok(Number(row.spend) > 0);
    }
    const broke = String((await proxy.admin("/key/generate", { body: { max_budget: 0 } })).json.key);
    const refused = await post({ model: "gpt-4o-mini", input: "x" }, broke);
    assert.equal(refused.status, 400);
    assert.match((await errorOf(refused)).message, /Budget has been exceeded/);
  });
});
