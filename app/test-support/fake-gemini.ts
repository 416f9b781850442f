// Google's Gemini API on a local port, as tandem's gemini/ adapter meets it:
// generateContent and streamGenerateContent?alt=sse under /v1beta/models/,
// the key in x-goog-api-key. It echoes the last user text; given function
// declarations and a prompt naming the weather it calls the first one; the
// model "throttled" answers 429 RESOURCE_EXHAUSTED, as Gemini does.
// Given a service account, it is Vertex AI too: its token endpoint (/token) checks the signed JWT
// against the account's public key and mints access tokens, and the publisher path
// (/v1/projects/…/models/…:generateContent) takes only a token it minted.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { verify, type KeyObject } from "node:crypto";
import { listenLocally } from "../dev/local-server.js";

type Json = Record<string, unknown>;
export interface FakeGemini {
  url: string;
  requests: Array<{ path: string; headers: IncomingMessage["headers"]; body: Json }>;
  /** Access tokens minted at /token, in order. */
  tokens: string[];
  close(): Promise<void>;
}

/** What the token endpoint checks an assertion against: who may sign, with which key. */
export interface FakeServiceAccount {
  email: string;
  publicKey: KeyObject;
}

export async function startFakeGemini(key: string, account?: FakeServiceAccount): Promise<FakeGemini> {
  const requests: FakeGemini["requests"] = [];
  const tokens: string[] = [];
  let url = "";
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => {
      if (req.url === "/token") return token(text, res);
      const body = JSON.parse(text || "{}") as {
        contents?: Array<{ role: string; parts: Array<{ text?: string }> }>;
        tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
      };
      requests.push({ path: req.url ?? "", headers: req.headers, body: body as Json });
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      const match =
        /^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/.exec(req.url ?? "") ??
        /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^:]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/.exec(
          req.url ?? "",
        );
      if (!match) return json(404, { error: { code: 404, message: `no route ${req.url}`, status: "NOT_FOUND" } });
      const vertex = req.url!.startsWith("/v1/projects/");
      if (vertex && !tokens.includes((req.headers.authorization ?? "").replace(/^Bearer /, "")))
        return json(401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
      if (!vertex && req.headers["x-goog-api-key"] !== key)
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
        return json(200, {
          candidates: [candidate(parts, "STOP")],
          usageMetadata: usage,
          modelVersion: model,
          responseId: `gem-resp-${requests.length}`,
        });
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
  /** RFC 7523: a JWT signed by the account's key, for this endpoint, asking for Cloud Platform access. */
  function token(text: string, res: ServerResponse) {
    const refuse = (why: string) =>
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant", error_description: why }));
    const form = new URLSearchParams(text);
    if (!account) return refuse("no service account here");
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return refuse("grant_type");
    const [header, claims, signature] = (form.get("assertion") ?? "").split(".");
    if (!header || !claims || !signature) return refuse("assertion");
    if (!verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), account.publicKey, Buffer.from(signature, "base64url")))
      return refuse("Invalid JWT Signature.");
    const c = JSON.parse(Buffer.from(claims, "base64url").toString()) as { iss?: string; aud?: string; scope?: string; exp?: number };
    if (c.iss !== account.email || c.aud !== `${url}/token` || !c.scope?.includes("cloud-platform") || !(c.exp! * 1000 > Date.now()))
      return refuse("claims");
    const issued = `ya29.fake-${tokens.length + 1}`;
    tokens.push(issued);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ access_token: issued, expires_in: 3599, token_type: "Bearer" }));
  }

  const listening = await listenLocally(server, 0);
  url = `http://127.0.0.1:${listening.port}`;
  return { url, requests, tokens, close: listening.close };
}
