// A local stand-in for Amazon Bedrock's Converse API in its documented wire
// format (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// and ConverseStream's application/vnd.amazon.eventstream): every request's
// SigV4 signature is recomputed with the known test credentials and refused
// (403, as AWS does) unless it matches. Model "throttled" answers Bedrock's 429.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { listenLocally } from "../dev/local-server.js";

export interface FakeBedrock {
  url: string;
  server: Server;
  requests: Array<{ path: string; headers: IncomingMessage["headers"]; body: Record<string, unknown>; signatureValid: boolean }>;
  close(): Promise<void>;
}

export const TEST_AWS = { accessKeyId: "AKIDTANDEMTEST", secretAccessKey: "tandem-test-secret-key", region: "eu-west-1" };
/** What the fake STS hands out for an assumed role; the fake Bedrock takes requests signed with either. */
export const TEST_ASSUMED = {
  accessKeyId: "ASIATANDEMASSUMED",
  secretAccessKey: "tandem-assumed-secret",
  sessionToken: "tandem-session-token",
};
const SECRETS: Record<string, string> = {
  [TEST_AWS.accessKeyId]: TEST_AWS.secretAccessKey,
  [TEST_ASSUMED.accessKeyId]: TEST_ASSUMED.secretAccessKey,
};

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });

/** Recomputes the request's SigV4 signature over the headers it says it signed. */
async function signatureMatches(req: IncomingMessage, body: string): Promise<boolean> {
  const authorization = req.headers.authorization ?? "";
  const match = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/bedrock\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(
    authorization,
  );
  const amzDate = req.headers["x-amz-date"];
  const secret = match ? SECRETS[match[1]!] : undefined;
  if (!match || !secret || typeof amzDate !== "string" || match[3] !== TEST_AWS.region) return false;
  const headers: Record<string, string> = {};
  for (const name of match[4]!.split(";")) headers[name] = String(req.headers[name] ?? "");
  const signer = new SignatureV4({
    credentials: { accessKeyId: match[1]!, secretAccessKey: secret },
    region: TEST_AWS.region,
    service: "bedrock",
    sha256: Hash.bind(null, "sha256"),
  });
  const when = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  const [host, port] = String(req.headers.host).split(":");
  const signed = await signer.sign(
    { method: "POST", protocol: "http:", hostname: host!, port: Number(port), path: req.url ?? "", query: {}, headers, body },
    { signingDate: when },
  );
  return new RegExp(`Signature=${match[5]}$`).test(String(signed.headers.authorization));
}

export async function startFakeBedrock(): Promise<FakeBedrock> {
  const requests: FakeBedrock["requests"] = [];
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const server = createServer(async (req, res) => {
    const text = await read(req);
    const route = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(req.url ?? "");
    const fail = (status: number, type: string, message: string) =>
      res
        .writeHead(status, {
          "content-type": "application/json",
          "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        })
        .end(JSON.stringify({ message }));
    if (req.method !== "POST" || !route) return fail(404, "UnknownOperationException", "not found");
    const body = JSON.parse(text) as {
      messages: Array<{ role: string; content: Array<{ text?: string }> }>;
      toolConfig?: { tools: Array<{ toolSpec: { name: string } }> };
    };
    const signatureValid = await signatureMatches(req, text);
    requests.push({ path: req.url ?? "", headers: req.headers, body, signatureValid });
    if (!signatureValid)
      return fail(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
    const model = decodeURIComponent(route[1]!);
    if (model === "throttled") return fail(429, "ThrottlingException", "Too many requests, please wait before trying again.");

    const lastText = (body.messages.at(-1)?.content ?? []).map((b) => b.text ?? "").join("");
    const inputTokens = body.messages.flatMap((m) => m.content).reduce((n, b) => n + (b.text ?? "").split(/\s+/).filter(Boolean).length, 0);
    const tool = body.toolConfig?.tools[0] && /weather/i.test(lastText) ? body.toolConfig.tools[0].toolSpec.name : undefined;
    const reply = `echo: ${lastText}`;
    const usage = { inputTokens, outputTokens: tool ? 12 : reply.split(/\s+/).length, totalTokens: 0 };
    usage.totalTokens = usage.inputTokens + usage.outputTokens;
    const toolUse = tool
      ? { toolUseId: `tooluse_${Math.random().toString(36).slice(2)}`, name: tool, input: { city: "Paris" } }
      : undefined;
    const stopReason = tool ? "tool_use" : "end_turn";

    if (route[2] === "converse") {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          output: { message: { role: "assistant", content: [toolUse ? { toolUse } : { text: reply }] } },
          stopReason,
          usage,
          metrics: { latencyMs: 12 },
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream" });
    const event = (type: string, payload: Record<string, unknown>) =>
      res.write(
        codec.encode({
          headers: {
            ":event-type": { type: "string", value: type },
            ":content-type": { type: "string", value: "application/json" },
            ":message-type": { type: "string", value: "event" },
          },
          body: fromUtf8(JSON.stringify(payload)),
        }),
      );
    event("messageStart", { role: "assistant" });
    if (toolUse) {
      event("contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId: toolUse.toolUseId, name: toolUse.name } } });
      for (const part of ['{"city"', ': "Paris"}'])
        event("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: part } } });
    } else {
      for (const piece of reply.split(/(?<= )/)) event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: piece } });
    }
    event("contentBlockStop", { contentBlockIndex: 0 });
    event("messageStop", { stopReason });
    event("metadata", { usage, metrics: { latencyMs: 12 } });
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
