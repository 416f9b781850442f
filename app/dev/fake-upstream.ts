// A small OpenAI-compatible upstream for `make run` and the tests: tandem
// forwards to it exactly as it would to a real provider. Behaviour is chosen
// by the upstream model name, so one server covers every case:
//   echo      answers with the last user message; usage = word counts
//   slow      like echo, streamed one word every 100 ms (shutdown/stream tests)
//   fail-429  answers 429 with an OpenAI error body
//   fail-500  answers 500 with an OpenAI error body (a deployment that is down)
//   hang      never answers (timeout tests)
//   reset     streams three words, then drops the connection (a provider failing mid-stream)
// It serves /chat/completions, /completions (the prompt echoed), /embeddings (a vector per input) and
// /images/generations, under any prefix (Azure's /openai/deployments/<name>/… too), and the
// Responses API (fake-responses.ts).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { FakeResponses } from "./fake-responses.js";
import { listenLocally } from "./local-server.js";

export interface FakeUpstream {
  url: string;
  server: Server;
  /** Requests received, newest last (bodies parsed). */
  requests: Array<{ path: string; url: string; body: Record<string, unknown>; authorization?: string; apiKey?: string }>;
  /** Streams the upstream is still writing (an event, not a clock, for "not buffered" tests). */
  openStreams(): number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

export async function startFakeUpstream(port = 0): Promise<FakeUpstream> {
  const requests: FakeUpstream["requests"] = [];
  let openStreams = 0;
  const responses = new FakeResponses();
  const record = (req: IncomingMessage, path: string, body: Record<string, unknown>) => {
    const apiKey = req.headers["api-key"];
    requests.push({
      path,
      url: req.url ?? "",
      body,
      authorization: req.headers.authorization,
      apiKey: typeof apiKey === "string" ? apiKey : undefined,
    });
  };
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    if (path.includes("/responses")) {
      const text = req.method === "POST" ? await readBody(req) : "";
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      record(req, path.slice(path.indexOf("/responses")), { ...body, method: req.method });
      if (responses.handle(req, res, path, body)) return;
    }
    const operation = ["/chat/completions", "/completions", "/embeddings", "/images/generations", "/moderations"].find((op) =>
      path.endsWith(op),
    );
    if (req.method !== "POST" || !operation) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: "not found", type: "not_found" } }));
      return;
    }
    const body = JSON.parse(await readBody(req)) as {
      model: string;
      messages: Array<{ content?: unknown }>;
      prompt?: unknown;
      input?: unknown;
      n?: number;
      tools?: Array<{ function?: { name?: string } }>;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    record(req, operation, body);
    const model = body.model;
    if (model === "hang") return;
    if (model === "fail-429" || model === "fail-500") {
      const status = model === "fail-429" ? 429 : 500;
      res.writeHead(status, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: { message: status === 429 ? "Rate limit reached" : "Internal server error", type: "server_error", code: String(status) },
        }),
      );
      return;
    }
    // "small-context" has a 50-word window and "moderated" refuses the word "forbidden", as providers word such refusals.
    const promptWords = (body.messages ?? []).reduce((n: number, m) => n + String(m.content ?? "").split(/\s+/).length, 0);
    if (model === "small-context" && promptWords > 50) {
      res.writeHead(400, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: {
            message: `This model's maximum context length is 50 tokens. However, your messages resulted in ${promptWords} tokens.`,
            type: "invalid_request_error",
            param: "messages",
            code: "context_length_exceeded",
          },
        }),
      );
      return;
    }
    if (model === "moderated" && JSON.stringify(body.messages ?? []).includes("forbidden")) {
      res.writeHead(400, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: {
            message: "Your request was rejected by the safety system.",
            type: "invalid_request_error",
            code: "content_policy_violation",
          },
        }),
      );
      return;
    }
    if (operation === "/embeddings") {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const tokens = inputs.reduce((n: number, i) => n + String(i).split(/\s+/).length, 0);
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          object: "list",
          model,
          data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.1, 0.2, 0.3] })),
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        }),
      );
      return;
    }
    if (operation === "/moderations") {
      // OpenAI's shape; a moderation reports no usage (and is not charged).
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `modr-${Math.random().toString(36).slice(2)}`,
          model,
          results: inputs.map(() => ({ flagged: false, categories: { violence: false }, category_scores: { violence: 0.01 } })),
        }),
      );
      return;
    }
    if (operation === "/images/generations") {
      // OpenAI's shape: a gpt-image model reports token usage, dall-e models none (priced per image).
      const images = Array.from({ length: body.n ?? 1 }, () => ({
        b64_json: Buffer.from(`image of ${String(body.prompt)}`).toString("base64"),
      }));
      const tokens = String(body.prompt).split(/\s+/).length;
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          created: Math.floor(Date.now() / 1000),
          data: images,
          ...(model.startsWith("gpt-image")
            ? { usage: { input_tokens: tokens, output_tokens: 1056 * images.length, total_tokens: tokens + 1056 * images.length } }
            : {}),
        }),
      );
      return;
    }
    if (operation === "/completions") body.messages = [{ content: Array.isArray(body.prompt) ? body.prompt.join("\n") : body.prompt }];
    const last = body.messages.at(-1)?.content;
    const text = `echo: ${typeof last === "string" ? last : JSON.stringify(last)}`;
    const words = text.split(/\s+/);
    const promptTokens = body.messages.reduce((n, m) => n + String(m.content ?? "").split(/\s+/).length, 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: words.length, total_tokens: promptTokens + words.length };
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    const created = Math.floor(Date.now() / 1000);

    const tool = body.tools?.[0]?.function?.name;
    if (operation === "/chat/completions" && tool && /weather/i.test(typeof last === "string" ? last : JSON.stringify(last))) {
      // Given tools and a question about the weather, it calls the first tool, as OpenAI's API does.
      const call = {
        id: `call_${Math.random().toString(36).slice(2)}`,
        type: "function",
        function: { name: tool, arguments: '{"city":"Paris"}' },
      };
      const toolUsage = { prompt_tokens: promptTokens, completion_tokens: 12, total_tokens: promptTokens + 12 };
      if (!body.stream) {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id,
            object: "chat.completion",
            created,
            model,
            choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [call] }, finish_reason: "tool_calls" }],
            usage: toolUsage,
          }),
        );
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (choices: unknown[], extra = {}) =>
        res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })}\n\n`);
      send([{ index: 0, delta: { role: "assistant", content: null }, finish_reason: null }]);
      send([{ index: 0, delta: { tool_calls: [{ index: 0, ...call, function: { name: tool, arguments: "" } }] }, finish_reason: null }]);
      for (const piece of ['{"city"', ':"Paris"}'])
        send([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish_reason: null }]);
      send([{ index: 0, delta: {}, finish_reason: "tool_calls" }]);
      if (body.stream_options?.include_usage) send([], { usage: toolUsage });
      res.end("data: [DONE]\n\n");
      return;
    }

    if (operation === "/completions" && !body.stream) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `cmpl-${id.slice(9)}`,
          object: "text_completion",
          created,
          model,
          choices: [{ index: 0, text, finish_reason: "stop" }],
          usage,
        }),
      );
      return;
    }
    if (!body.stream) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model,
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    openStreams++;
    res.once("close", () => openStreams--);
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      operation === "/completions"
        ? send({ id, object: "text_completion", created, model, choices: [{ index: 0, text: delta.content ?? "", finish_reason: finish }] })
        : send({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    chunk({ role: "assistant", content: "" });
    for (const [i, word] of words.entries()) {
      if (model === "reset" && i === 3) {
        // Let what was written reach the proxy first: the failure is mid-stream, not before it.
        await new Promise((r) => setTimeout(r, 100));
        res.socket?.destroy();
        return;
      }
      if (model === "slow") await new Promise((r) => setTimeout(r, 100));
      chunk({ content: i === 0 ? word : ` ${word}` });
    }
    chunk({}, "stop");
    if (body.stream_options?.include_usage) send({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
    res.end("data: [DONE]\n\n");
  });
  const listening = await listenLocally(server, port);
  return {
    url: `http://127.0.0.1:${listening.port}/v1`,
    server,
    requests,
    openStreams: () => openStreams,
    close: listening.close,
  };
}
