// A local stand-in for Anthropic's Messages API, in its documented wire
// format (https://docs.anthropic.com/en/api/messages and .../messages-streaming):
// x-api-key and anthropic-version required, max_tokens required, errors as
// {"type":"error","error":{...}}, streams as named events. It echoes the last
// user text; given tools and a prompt naming the weather it calls the first tool.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { listenLocally } from "../dev/local-server.js";

export interface FakeAnthropic {
  url: string;
  server: Server;
  requests: Array<{ path: string; headers: IncomingMessage["headers"]; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

type Block = { type: string; text?: string; content?: unknown };
type Message = { role: string; content: string | Block[] };

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

export async function startFakeAnthropic(apiKey: string): Promise<FakeAnthropic> {
  const requests: FakeAnthropic["requests"] = [];
  const server = createServer(async (req, res) => {
    const fail = (status: number, type: string, message: string) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ type: "error", error: { type, message } }));
    if (req.method !== "POST" || req.url !== "/v1/messages") return fail(404, "not_found_error", "Not found");
    const body = JSON.parse(await read(req)) as {
      model: string;
      max_tokens?: number;
      messages: Message[];
      system?: string;
      stream?: boolean;
      tools?: Array<{ name: string }>;
    };
    requests.push({ path: req.url, headers: req.headers, body });
    if (req.headers["x-api-key"] !== apiKey) return fail(401, "authentication_error", "invalid x-api-key");
    if (!req.headers["anthropic-version"]) return fail(400, "invalid_request_error", "anthropic-version: header is required");
    if (typeof body.max_tokens !== "number") return fail(400, "invalid_request_error", "max_tokens: Field required");
    if (body.model === "overloaded") return fail(529, "overloaded_error", "Overloaded");

    const last = body.messages.at(-1);
    const lastText = typeof last?.content === "string" ? last.content : (last?.content ?? []).map((b) => b.text ?? "").join("");
    const prompt = [
      body.system ?? "",
      ...body.messages.map((m) =>
        typeof m.content === "string" ? m.content : m.content.map((b) => b.text ?? JSON.stringify(b.content ?? "")).join(" "),
      ),
    ].join(" ");
    const usage = { input_tokens: words(prompt), output_tokens: 0 };
    const tool = body.tools?.[0] && /weather/i.test(lastText) ? body.tools[0] : undefined;
    const text = `echo: ${lastText}`;
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    const content = tool
      ? [{ type: "tool_use", id: `toolu_${Math.random().toString(36).slice(2)}`, name: tool.name, input: { city: "Paris" } }]
      : [{ type: "text", text }];
    usage.output_tokens = tool ? 12 : words(text);
    const stopReason = tool ? "tool_use" : "end_turn";

    if (!body.stream) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id,
          type: "message",
          role: "assistant",
          model: body.model,
          content,
          stop_reason: stopReason,
          stop_sequence: null,
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const event = (type: string, data: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event("message_start", {
      message: {
        id,
        type: "message",
        role: "assistant",
        model: body.model,
        content: [],
        stop_reason: null,
        usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
      },
    });
    event("ping", {});
    if (tool) {
      const block = content[0] as { id: string; name: string };
      event("content_block_start", { index: 0, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      for (const part of ['{"city"', ': "Par', 'is"}'])
        event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: part } });
    } else {
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
      text.split(/(?<= )/).forEach((piece) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text: piece } }));
    }
    event("content_block_stop", { index: 0 });
    event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    event("message_stop", {});
    res.end();
  });
  const listening = await listenLocally(server);
  return {
    url: `http://127.0.0.1:${listening.port}`,
    server,
    requests,
    close: listening.close,
  };
}
