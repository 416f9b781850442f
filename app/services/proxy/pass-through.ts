import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { request } from "undici";
import type { PassThroughEndpoint } from "../../config/pass-through.js";
import type { Caller } from "../access/auth.js";
import { NO_USAGE } from "./operation.js";
import { ApiError } from "../errors.js";
import { admitRequest } from "./admit.js";
import type { ProxyDeps } from "./deps.js";
import { record } from "./record.js";

/** Never forwarded: the caller's tandem credential, its session, and what belongs to one connection only. */
const NOT_FORWARDED = new Set([
  "authorization",
  "x-litellm-api-key",
  "api-key",
  "x-api-key",
  "cookie",
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "upgrade",
  "te",
  "trailer",
  "proxy-authorization",
]);
/** Not copied from the target's answer: Node's server frames the answer itself. */
const NOT_RELAYED = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "trailer"]);

export interface PassThroughCall {
  method: string;
  /** The path after the endpoint's own (include_subpath), with the query string. */
  rest: string;
  headers: IncomingHttpHeaders;
  body: Readable;
}

/**
 * LiteLLM's pass-through endpoint: the request goes to the target as it came
 * (body streamed, nothing translated) with the endpoint's headers — the
 * target's key, which the caller never sees — and the answer comes back as
 * the target gave it. The caller's key is checked, its rate limits and budget
 * hold, and cost_per_request is charged to it for each answer under 400.
 */
export async function passThrough(
  deps: ProxyDeps,
  endpoint: PassThroughEndpoint,
  caller: Caller,
  call: PassThroughCall,
  res: ServerResponse,
): Promise<void> {
  const costKey = `${caller.kind === "key" ? caller.key.token : "master"}|pass-through:${endpoint.path}`;
  const ticket = await admitRequest(deps, caller, null, costKey);
  try {
    const startTime = new Date();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers)) {
      const forwarded = endpoint.forwardHeaders || name === "content-type" || name === "accept";
      if (forwarded && !NOT_FORWARDED.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    Object.assign(headers, endpoint.headers);
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const hasBody = call.method !== "GET" && call.method !== "HEAD";
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request(`${endpoint.target}${call.rest}`, {
        method: call.method as "POST",
        headers,
        body: hasBody ? call.body : undefined,
        signal: abort.signal,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      throw new ApiError(502, `pass-through target of ${endpoint.path} unreachable (${code})`, "upstream_error");
    }
    const relayed = Object.entries(answer.headers).filter(([name, value]) => !NOT_RELAYED.has(name) && value !== undefined);
    res.writeHead(answer.statusCode, Object.fromEntries(relayed) as Record<string, string | string[]>);
    await pipeline(answer.body, res);
    if (answer.statusCode < 400 && endpoint.costPerRequest > 0)
      record(deps, { callType: "pass_through_endpoint" }, caller, {
        model: endpoint.path,
        usage: NO_USAGE,
        cost: endpoint.costPerRequest,
        responseId: undefined,
        startTime,
        estimated: false,
        endUser: undefined,
      });
  } finally {
    ticket.done(0);
  }
}
