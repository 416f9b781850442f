// Google's Gemini API on a local port, as tandem's gemini/ adapter meets it:
// generateContent and streamGenerateContent?alt=sse under /v1beta/models/,
// the key in x-goog-api-key. It echoes the last user text; given function
// declarations and a prompt naming the weather it calls the first one; the
// model "throttled" answers 429 RESOURCE_EXHAUSTED, as Gemini does.
import { createServer, type IncomingMessage } from "node:http";
import { listenLocally } from "../dev/local-server.js";

type Json = Record<string, unknown>;
export interface FakeGemini {
  url: string;
  requests: Array<{ path: string; headers: IncomingMessage["headers"]; body: Json }>;
  close(): Promise<void>;
}

export async function startFakeGemini(key: string): Promise<FakeGemini> {
  const requests: FakeGemini["requests"] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => {
      const body = JSON.parse(text || "{}") as {
        contents?: Array<{ role: string; parts: Array<{ text?: string }> }>;
        tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
      };
      requests.push({ path: req.url ?? "", headers: req.headers, body: body as Json });
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      const match = /^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/.exec(req.url ?? "");
      if (!match) return json(404, { error: { code: 404, message: `no route ${req.url}`, status: "NOT_FOUND" } });
      if (req.headers["x-goog-api-key"] !== key)
        return json(400, { error: { code: 400, message: "API key not valid. Please pass a valid API key.", status: "INVALID_ARGUMENT" } });
      const model = decodeURIComponent(match[1]!);
      if (model === "throttled")
        return json(429, {
          error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" },
        });
      const userTurns = (body.contents ?? []).filter((c) => c.role === "user");
      const last =
        userTurns
          .at(-1)
          ?.parts.map((p) => p.text ?? "")
          .join("") ?? "";
      const prompt = (body.contents ?? [])
        .flatMap((c) => c.parts.map((p) => p.text ?? ""))
        .join(" ")
        .split(/\s+/)
        .filter(Boolean).length;
      const tool = body.tools?.[0]?.functionDeclarations?.[0]?.name;
      const calling = tool !== undefined && /weather/i.test(last);
      const answer = `echo: ${last}`;
      const words = answer.split(/\s+/);
      const usage = {
        promptTokenCount: prompt,
        candidatesTokenCount: calling ? 7 : words.length,
        totalTokenCount: prompt + (calling ? 7 : words.length),
      };
      const candidate = (parts: Json[], finishReason?: string) => ({
        content: { role: "model", parts },
        ...(finishReason ? { finishReason } : {}),
        index: 0,
      });
      const parts = calling ? [{ functionCall: { name: tool, args: { city: "Paris" } } }] : [{ text: answer }];
      if (match[2] === "generateContent")
        return json(200, { candidates: [candidate(parts, "STOP")], usageMetadata: usage, modelVersion: model, responseId: "gem-resp-1" });
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (value: Json) => res.write(`data: ${JSON.stringify(value)}\r\n\r\n`);
      if (calling) send({ candidates: [candidate(parts, "STOP")], usageMetadata: usage });
      else
        words.forEach((word, i) =>
          send({
            candidates: [candidate([{ text: i === 0 ? word : ` ${word}` }], i === words.length - 1 ? "STOP" : undefined)],
            usageMetadata: { ...usage, candidatesTokenCount: i + 1, totalTokenCount: prompt + i + 1 },
          }),
        );
      res.end();
    });
  });
  const listening = await listenLocally(server, 0);
  return { url: `http://127.0.0.1:${listening.port}`, requests, close: listening.close };
}
