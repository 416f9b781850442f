// A LiteLLM config naming azure/ and anthropic/ deployments works with the
// official OpenAI client: each request is sent in the provider's own wire
// format (local fakes of it), the answer comes back in OpenAI's, and spend
// is exact from the provider's own usage fields.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import Anthropic from "@anthropic-ai/sdk";
import { startFakeAnthropic, type FakeAnthropic } from "../test-support/fake-anthropic.js";
import { startFakeBedrock, TEST_ASSUMED, TEST_AWS, type FakeBedrock } from "../test-support/fake-bedrock.js";
import { startFakeSts, type FakeSts } from "../test-support/fake-sts.js";
import { startFakeGemini, type FakeGemini } from "../test-support/fake-gemini.js";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

describe("providers: azure/, anthropic/ and bedrock/ deployments behind OpenAI's API", () => {
  let proxy: Proxy;
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let sts: FakeSts;
  let gemini: FakeGemini;
  const client = new OpenAI({ apiKey: MASTER_KEY, baseURL: "http://unset", maxRetries: 0 });
  const openai = () => client.withOptions({ baseURL: `${proxy.base}/v1` });
  const weatherTool = {
    type: "function" as const,
    function: {
      name: "get_weather",
      description: "Weather in a city",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  };
  // A service account of Vertex AI's: its key file (a path in the config) and the same key inline (JSON in the config).
  const account = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const serviceAccount = (tokenUri: string) => ({
    type: "service_account",
    project_id: "key-project",
    private_key_id: "kid-1",
    private_key: account.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: "tandem@key-project.iam.gserviceaccount.com",
    token_uri: tokenUri,
  });
  const spendOf = async (requestId: string) => (await proxy.spendRows(`request_id=${requestId}`, (rows) => rows.length === 1))[0]!;

  before(async () => {
    anthropic = await startFakeAnthropic("sk-ant-test");
    bedrock = await startFakeBedrock();
    sts = await startFakeSts();
    gemini = await startFakeGemini("gemini-test-key", {
      email: "tandem@key-project.iam.gserviceaccount.com",
      publicKey: account.publicKey,
    });
    const keyFile = join(mkdtempSync(join(tmpdir(), "tandem-vertex-")), "service-account.json");
    writeFileSync(keyFile, JSON.stringify(serviceAccount(`${gemini.url}/token`)), { mode: 0o600 });
    // The AWS SDK's default credential chain reads these first (on EKS it would find the IRSA role instead).
    process.env.AWS_ACCESS_KEY_ID = TEST_AWS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = TEST_AWS.secretAccessKey;
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
            "  - model_name: claude-overloaded",
            "    litellm_params:",
            "      model: anthropic/overloaded",
            `      api_base: ${anthropic.url}`,
            "      api_key: sk-ant-test",
            "  - model_name: azure-gpt",
            "    litellm_params:",
            "      model: azure/my-gpt-deployment",
            `      api_base: ${url.replace(/\/v1$/, "")}`,
            "      api_version: 2024-06-01",
            "      api_key: azure-key-123",
            "  - model_name: azure-embed",
            "    litellm_params:",
            "      model: azure/my-embedding-deployment",
            `      api_base: ${url.replace(/\/v1$/, "")}`,
            "      api_key: azure-key-123",
            "    model_info: {mode: embedding}",
            "  - model_name: azure-dalle",
            "    litellm_params:",
            "      model: azure/my-dalle-deployment",
            `      api_base: ${url.replace(/\/v1$/, "")}`,
            "      api_key: azure-key-123",
            "    model_info: {mode: image_generation, output_cost_per_image: 0.04}",
            "  - model_name: bedrock-claude",
            "    litellm_params:",
            "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            `      aws_region_name: ${TEST_AWS.region}`,
            `      api_base: ${bedrock.url}`,
            // A VPC interface endpoint instead of the public one (no api_base), and a role assumed through STS.
            "  - model_name: bedrock-vpc",
            "    litellm_params:",
            "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            `      aws_region_name: ${TEST_AWS.region}`,
            `      aws_bedrock_runtime_endpoint: ${bedrock.url}`,
            "  - model_name: bedrock-role",
            "    litellm_params:",
            "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            `      aws_region_name: ${TEST_AWS.region}`,
            `      aws_bedrock_runtime_endpoint: ${bedrock.url}`,
            "      aws_role_name: arn:aws:iam::123456789012:role/tandem-bedrock",
            "      aws_session_name: tandem-test-session",
            `      aws_sts_endpoint: ${sts.url}`,
            "  - model_name: gemini-flash",
            "    litellm_params:",
            "      model: gemini/gemini-2.0-flash",
            `      api_base: ${gemini.url}`,
            "      api_key: gemini-test-key",
            "  - model_name: gemini-throttled",
            "    litellm_params:",
            "      model: gemini/throttled",
            `      api_base: ${gemini.url}`,
            "      api_key: gemini-test-key",
            "  - model_name: vertex-flash",
            "    litellm_params:",
            "      model: vertex_ai/gemini-2.0-flash",
            "      vertex_project: tandem-project",
            "      vertex_location: europe-west4",
            `      vertex_credentials: ${keyFile}`,
            `      api_base: ${gemini.url}`,
            "  - model_name: vertex-inline",
            "    litellm_params:",
            "      model: vertex_ai/gemini-2.0-flash",
            `      vertex_credentials: '${JSON.stringify(serviceAccount(`${gemini.url}/token`))}'`,
            `      api_base: ${gemini.url}`,
            "  - model_name: bedrock-throttled",
            "    litellm_params:",
            "      model: bedrock/throttled",
            `      aws_region_name: ${TEST_AWS.region}`,
            `      api_base: ${bedrock.url}`,
          ],
        }),
      },
    );
  });
  after(async () => {
    await proxy?.stop();
    await anthropic?.close();
    await bedrock?.close();
    await sts?.close();
    await gemini?.close();
  });

  describe("anthropic/", () => {
    it("a chat completion is sent as a Messages request and answered in OpenAI's shape", async () => {
      const answer = await openai().chat.completions.create({
        model: "claude",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hello there" },
        ],
        temperature: 0.2,
        stop: "END",
      });
      assert.equal(answer.choices[0]?.message.content, "echo: hello there");
      assert.equal(answer.choices[0]?.finish_reason, "stop");
      assert.equal(answer.object, "chat.completion");
      const sent = anthropic.requests.at(-1)!;
      assert.equal(sent.headers["x-api-key"], "sk-ant-test");
      assert.equal(sent.headers["anthropic-version"], "2023-06-01");
      assert.equal(sent.headers.authorization, undefined, "Anthropic's key header, not OpenAI's");
      assert.deepEqual(
        [sent.body.model, sent.body.system, sent.body.max_tokens, sent.body.temperature, sent.body.stop_sequences],
        ["claude-3-5-sonnet-20241022", "Be brief.", 4096, 0.2, ["END"]],
      );
      assert.deepEqual(sent.body.messages, [{ role: "user", content: [{ type: "text", text: "hello there" }] }]);
      // Spend from Anthropic's own usage, at the price database's $3 / $15 per million.
      const row = await spendOf(answer.id);
      assert.deepEqual([row.prompt_tokens, row.completion_tokens], [answer.usage?.prompt_tokens, answer.usage?.completion_tokens]);
      const expected = answer.usage!.prompt_tokens * 3e-6 + answer.usage!.completion_tokens * 15e-6;
      assert.ok(Math.abs(Number(row.spend) - expected) < 1e-12, `spend ${String(row.spend)} expected ${expected}`);
    });

    it("a stream arrives as OpenAI chunks, with usage when asked, and is charged exactly", async () => {
      const stream = await openai().chat.completions.create({
        model: "claude",
        messages: [{ role: "user", content: "stream me some words" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let id = "";
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        id = chunk.id;
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      assert.equal(text, "echo: stream me some words");
      assert.equal(finish, "stop");
      assert.ok(usage && usage.completion_tokens === 5, JSON.stringify(usage));
      const row = await spendOf(id);
      assert.equal(row.completion_tokens, 5);
      assert.equal((row.metadata as { usage_estimated?: boolean }).usage_estimated, undefined, "usage as Anthropic reported it");
    });

    it("tool calls go out as tools and come back as tool_calls, plain and streamed; a tool result goes back as tool_result", async () => {
      const asked = await openai().chat.completions.create({
        model: "claude",
        messages: [{ role: "user", content: "what is the weather in Paris?" }],
        tools: [weatherTool],
        tool_choice: "auto",
      });
      const call = asked.choices[0]?.message.tool_calls?.[0];
      assert.equal(asked.choices[0]?.finish_reason, "tool_calls");
      assert.equal(call?.type === "function" && call.function.name, "get_weather");
      assert.deepEqual(JSON.parse(call?.type === "function" ? call.function.arguments : "null"), { city: "Paris" });
      const sentTools = anthropic.requests.at(-1)!.body;
      assert.deepEqual(sentTools.tools, [
        { name: "get_weather", description: "Weather in a city", input_schema: weatherTool.function.parameters },
      ]);
      assert.deepEqual(sentTools.tool_choice, { type: "auto" });

      const stream = await openai().chat.completions.create({
        model: "claude",
        messages: [{ role: "user", content: "weather please" }],
        tools: [weatherTool],
        stream: true,
      });
      let name = "";
      let args = "";
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta.tool_calls?.[0];
        name += delta?.function?.name ?? "";
        args += delta?.function?.arguments ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.deepEqual([name, JSON.parse(args), finish], ["get_weather", { city: "Paris" }, "tool_calls"]);

      await openai().chat.completions.create({
        model: "claude",
        messages: [
          { role: "user", content: "what is the weather in Paris?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
          },
          { role: "tool", tool_call_id: "call_1", content: "sunny, 21°C" },
        ],
        tools: [weatherTool],
      });
      assert.deepEqual(anthropic.requests.at(-1)!.body.messages, [
        { role: "user", content: [{ type: "text", text: "what is the weather in Paris?" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "sunny, 21°C" }] },
      ]);
    });

    it("a provider error reaches the client in LiteLLM's shape with the provider's status", async () => {
      const res = await fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-overloaded", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 529);
      const body = (await res.json()) as { error: { message: string; type: string; code: string } };
      assert.deepEqual(
        [body.error.message, body.error.type, body.error.code],
        ["AnthropicException - Overloaded", "overloaded_error", "529"],
      );
    });

    it("embeddings on an anthropic/ model are a 400 naming the model", async () => {
      const res = await fetch(`${proxy.base}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude", input: "hi" }),
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /^model: claude is a anthropic\/ deployment/);
    });
  });

  describe("vertex_ai/", () => {
    it("a chat completion goes to the project's publisher path with a token of the service account, minted once for several calls", async () => {
      const before = gemini.tokens.length;
      const answers = [];
      for (const content of ["hello vertex", "again", "and again"])
        answers.push(await openai().chat.completions.create({ model: "vertex-flash", messages: [{ role: "user", content }] }));
      assert.equal(answers[0]!.choices[0]?.message.content, "echo: hello vertex");
      const sent = gemini.requests.filter((r) => r.path.startsWith("/v1/projects/")).slice(-3);
      assert.deepEqual(
        [...new Set(sent.map((r) => r.path))],
        ["/v1/projects/tandem-project/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"],
      );
      assert.ok(gemini.tokens.length >= before + 1, "a token was minted from the signed assertion");
      assert.equal(gemini.tokens.length, before + 1, "once for three calls: held until near its expiry");
      assert.deepEqual([...new Set(sent.map((r) => r.headers.authorization))], [`Bearer ${gemini.tokens.at(-1)}`]);
      assert.equal(sent[0]!.headers["x-goog-api-key"], undefined);
      const row = await spendOf(answers[0]!.id);
      // Priced as Google's Gemini 2.0 Flash from the price database.
      const expected = answers[0]!.usage!.prompt_tokens * 0.1e-6 + answers[0]!.usage!.completion_tokens * 0.4e-6;
      assert.ok(Math.abs(Number(row.spend) - expected) < 1e-12, `spend ${String(row.spend)} expected ${expected}`);
    });

    it("a stream is relayed as OpenAI chunks; a key given inline takes its project from the key, and the location defaults to us-central1", async () => {
      const stream = await openai().chat.completions.create({
        model: "vertex-inline",
        messages: [{ role: "user", content: "stream from vertex" }],
        stream: true,
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "echo: stream from vertex");
      assert.equal(
        gemini.requests.at(-1)!.path,
        "/v1/projects/key-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
      );
    });

    it("the service account's private key is in no log line and no answer", async () => {
      const info = JSON.stringify((await proxy.admin("/model/info")).json);
      const health = JSON.stringify((await proxy.admin("/health?model=vertex-flash")).json);
      const secretPart = serviceAccount("x").private_key.split("\n")[5]!;
      for (const text of [info, health, ...proxy.logs.lines]) assert.ok(!text.includes(secretPart));
      assert.match(health, /"healthy_count":1/);
    });
  });

  describe("gemini/", () => {
    const weatherTool = {
      type: "function" as const,
      function: {
        name: "get_weather",
        description: "Weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    };

    it("a chat completion is a generateContent request (key in x-goog-api-key), answered in OpenAI's shape and charged from Gemini's usage", async () => {
      const answer = await openai().chat.completions.create({
        model: "gemini-flash",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hello gemini" },
        ],
        max_tokens: 40,
        temperature: 0.5,
      });
      assert.equal(answer.choices[0]?.message.content, "echo: hello gemini");
      assert.equal(answer.choices[0]?.finish_reason, "stop");
      const sent = gemini.requests.at(-1)!;
      assert.equal(sent.path, "/v1beta/models/gemini-2.0-flash:generateContent");
      assert.equal(sent.headers["x-goog-api-key"], "gemini-test-key");
      assert.deepEqual(sent.body, {
        contents: [{ role: "user", parts: [{ text: "hello gemini" }] }],
        systemInstruction: { parts: [{ text: "Be brief." }] },
        generationConfig: { temperature: 0.5, maxOutputTokens: 40 },
      });
      const row = await spendOf(answer.id);
      // Gemini 2.0 Flash: $0.10 / $0.40 per million tokens, from the price database.
      const expected = answer.usage!.prompt_tokens * 0.1e-6 + answer.usage!.completion_tokens * 0.4e-6;
      assert.ok(Number(row.spend) > 0 && Math.abs(Number(row.spend) - expected) < 1e-12, `spend ${String(row.spend)} expected ${expected}`);
    });

    it("a stream is streamGenerateContent's SSE, relayed as OpenAI chunks ending with usage", async () => {
      const stream = await openai().chat.completions.create({
        model: "gemini-flash",
        messages: [{ role: "user", content: "stream from gemini" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let usage: { completion_tokens: number } | undefined;
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish ??= chunk.choices[0]?.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, "echo: stream from gemini");
      assert.equal(finish, "stop");
      assert.equal(usage?.completion_tokens, 4);
      assert.equal(gemini.requests.at(-1)?.path, "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
    });

    it("tools: function declarations go out, a functionCall comes back as a tool call, its result goes back as a functionResponse", async () => {
      const asked = await openai().chat.completions.create({
        model: "gemini-flash",
        tools: [weatherTool],
        tool_choice: "required",
        messages: [{ role: "user", content: "what is the weather in Paris?" }],
      });
      const call = asked.choices[0]?.message.tool_calls?.[0];
      assert.equal(asked.choices[0]?.finish_reason, "tool_calls");
      assert.ok(call?.type === "function");
      assert.deepEqual([call.function.name, JSON.parse(call.function.arguments)], ["get_weather", { city: "Paris" }]);
      assert.deepEqual(gemini.requests.at(-1)!.body.toolConfig, { functionCallingConfig: { mode: "ANY" } });
      await openai().chat.completions.create({
        model: "gemini-flash",
        tools: [weatherTool],
        messages: [
          { role: "user", content: "what is the weather in Paris?" },
          { role: "assistant", content: null, tool_calls: [call] },
          { role: "tool", tool_call_id: call.id, content: '{"sky":"sunny"}' },
        ],
      });
      assert.deepEqual(gemini.requests.at(-1)!.body.contents, [
        { role: "user", parts: [{ text: "what is the weather in Paris?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { content: { sky: "sunny" } } } }] },
      ]);
    });

    it("Gemini's 429 is LiteLLM's error shape with Gemini's status, and a retry-after", async () => {
      const res = await fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gemini-throttled", messages: [{ role: "user", content: "hi" }], num_retries: 0 }),
      });
      assert.equal(res.status, 429);
      assert.ok(res.headers.get("retry-after"));
      const { error } = (await res.json()) as { error: { message: string; code: string } };
      assert.match(error.message, /^GeminiException - RESOURCE_EXHAUSTED: Resource has been exhausted/);
      assert.equal(error.code, "429");
    });
  });

  describe("bedrock/", () => {
    it("a chat completion is a SigV4-signed Converse request, answered in OpenAI's shape and charged from Bedrock's usage", async () => {
      const answer = await openai().chat.completions.create({
        model: "bedrock-claude",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hello bedrock" },
        ],
        max_tokens: 50,
      });
      assert.equal(answer.choices[0]?.message.content, "echo: hello bedrock");
      const sent = bedrock.requests.at(-1)!;
      assert.equal(sent.signatureValid, true, "the fake recomputed the SigV4 signature with the test credentials");
      assert.equal(sent.path, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
      assert.deepEqual([sent.body.system, sent.body.inferenceConfig], [[{ text: "Be brief." }], { maxTokens: 50 }]);
      const row = await spendOf(answer.id);
      // Claude 3 Haiku on Bedrock: $0.25 / $1.25 per million tokens, from the price database.
      const expected = answer.usage!.prompt_tokens * 0.25e-6 + answer.usage!.completion_tokens * 1.25e-6;
      assert.ok(Math.abs(Number(row.spend) - expected) < 1e-12, `spend ${String(row.spend)} expected ${expected}`);
    });

    it("the fake's signature check is real: a request signed with another secret is refused", async () => {
      const valid = bedrock.requests.at(-1)!;
      const forged = String(valid.headers.authorization).replace(/Signature=[0-9a-f]+/, `Signature=${"0".repeat(64)}`);
      const res = await fetch(`${bedrock.url}${valid.path}`, {
        method: "POST",
        headers: { authorization: forged, "x-amz-date": String(valid.headers["x-amz-date"]), "content-type": "application/json" },
        body: JSON.stringify(valid.body),
      });
      assert.equal(res.status, 403);
      assert.equal(bedrock.requests.at(-1)?.signatureValid, false);
    });

    it("aws_bedrock_runtime_endpoint sends the deployment's calls to that endpoint (a VPC endpoint), signed for its region", async () => {
      const before = bedrock.requests.length;
      const answer = await openai().chat.completions.create({ model: "bedrock-vpc", messages: [{ role: "user", content: "via the vpc" }] });
      assert.equal(answer.choices[0]?.message.content, "echo: via the vpc");
      assert.equal(bedrock.requests.length, before + 1);
      assert.equal(bedrock.requests.at(-1)!.signatureValid, true);
    });

    it("aws_role_name is assumed through STS (as aws_session_name, signed by the pod's own identity) and the calls are signed as that role; STS is asked once, not per call", async () => {
      for (const word of ["one", "two", "three"]) {
        const answer = await openai().chat.completions.create({ model: "bedrock-role", messages: [{ role: "user", content: word }] });
        assert.equal(answer.choices[0]?.message.content, `echo: ${word}`);
        const sent = bedrock.requests.at(-1)!;
        assert.equal(sent.signatureValid, true);
        assert.match(String(sent.headers.authorization), new RegExp(`Credential=${TEST_ASSUMED.accessKeyId}/`));
        assert.equal(sent.headers["x-amz-security-token"], TEST_ASSUMED.sessionToken);
      }
      assert.equal(sts.calls.length, 1);
      const [call] = sts.calls;
      assert.deepEqual(
        [call!.form.Action, call!.form.RoleArn, call!.form.RoleSessionName, call!.signedBy],
        ["AssumeRole", "arn:aws:iam::123456789012:role/tandem-bedrock", "tandem-test-session", TEST_AWS.accessKeyId],
      );
    });

    it("a stream is ConverseStream's event stream, relayed as OpenAI chunks with usage", async () => {
      const stream = await openai().chat.completions.create({
        model: "bedrock-claude",
        messages: [{ role: "user", content: "stream from bedrock" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        usage = chunk.usage ?? usage;
      }
      assert.equal(text, "echo: stream from bedrock");
      assert.equal(usage?.completion_tokens, 4);
      assert.equal(bedrock.requests.at(-1)?.path, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
    });

    it("tool calls come back as tool_calls, plain and streamed", async () => {
      const asked = await openai().chat.completions.create({
        model: "bedrock-claude",
        messages: [{ role: "user", content: "weather in Paris?" }],
        tools: [weatherTool],
      });
      const call = asked.choices[0]?.message.tool_calls?.[0];
      assert.equal(asked.choices[0]?.finish_reason, "tool_calls");
      assert.deepEqual(call?.type === "function" ? [call.function.name, JSON.parse(call.function.arguments)] : [], [
        "get_weather",
        { city: "Paris" },
      ]);
      assert.deepEqual(bedrock.requests.at(-1)?.body.toolConfig, {
        tools: [
          { toolSpec: { name: "get_weather", description: "Weather in a city", inputSchema: { json: weatherTool.function.parameters } } },
        ],
      });
      const stream = await openai().chat.completions.create({
        model: "bedrock-claude",
        messages: [{ role: "user", content: "weather please" }],
        tools: [weatherTool],
        stream: true,
      });
      let args = "";
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.deepEqual([JSON.parse(args), finish], [{ city: "Paris" }, "tool_calls"]);
    });

    it("a Bedrock throttle is a 429 with retry-after, in LiteLLM's shape", async () => {
      const res = await fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "bedrock-throttled", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
      const body = (await res.json()) as { error: { message: string; type: string; code: string } };
      assert.deepEqual(
        [body.error.message, body.error.type, body.error.code],
        ["BedrockException - Too many requests, please wait before trying again.", "throttling_error", "429"],
      );
    });

    it("Anthropic clients reach a Bedrock deployment through /v1/messages", async () => {
      const client = new Anthropic({ apiKey: MASTER_KEY, baseURL: proxy.base, maxRetries: 0 });
      const message = await client.messages.create({
        model: "bedrock-claude",
        max_tokens: 64,
        messages: [{ role: "user", content: "via messages" }],
      });
      assert.deepEqual(message.content, [{ type: "text", text: "echo: via messages" }]);
      assert.equal(bedrock.requests.at(-1)?.signatureValid, true);
    });
  });

  describe("azure/", () => {
    it("chat goes to Azure's deployment URL with api-version and the api-key header", async () => {
      const answer = await openai().chat.completions.create({ model: "azure-gpt", messages: [{ role: "user", content: "hi azure" }] });
      assert.equal(answer.choices[0]?.message.content, "echo: hi azure");
      const sent = proxy.upstream.requests.at(-1)!;
      assert.equal(sent.url, "/openai/deployments/my-gpt-deployment/chat/completions?api-version=2024-06-01");
      assert.deepEqual([sent.apiKey, sent.authorization], ["azure-key-123", undefined]);
    });

    it("images too, charged per image", async () => {
      const images = await openai().images.generate({ model: "azure-dalle", prompt: "a harbour", n: 2 });
      assert.equal(images.data?.length, 2);
      assert.equal(
        proxy.upstream.requests.at(-1)!.url,
        "/openai/deployments/my-dalle-deployment/images/generations?api-version=2024-10-21",
      );
      const isDalle = (r: Record<string, unknown>) => r.model === "azure-dalle";
      const row = (await proxy.spendRows("", (rows) => rows.some(isDalle))).find(isDalle);
      assert.ok(Math.abs(Number(row!.spend) - 0.08) < 1e-12, String(row!.spend));
    });

    it("embeddings too, with the default api-version when the entry names none", async () => {
      const answer = await openai().embeddings.create({ model: "azure-embed", input: "hello" });
      assert.equal(answer.data.length, 1);
      assert.equal(proxy.upstream.requests.at(-1)!.url, "/openai/deployments/my-embedding-deployment/embeddings?api-version=2024-10-21");
    });
  });
});
