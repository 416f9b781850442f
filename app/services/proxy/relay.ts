import type { ServerResponse } from "node:http";
import type { Deployment } from "../../config/model-config.js";
import type { Caller } from "../access/auth.js";
import { costOf, type Usage } from "../billing/spend.js";
import { estimateUsage } from "../billing/token-estimate.js";
import { ApiError } from "../errors.js";
import { sendJson } from "../json-response.js";
import { adapterFor } from "../upstream/providers/index.js";
import { StreamPipeline } from "../upstream/stream-pipeline.js";
import { idOf, imagesOf, safeJson, usageOf } from "../upstream/upstream-response.js";
import type { Caching } from "./caching.js";
import type { ProxyDeps } from "./deps.js";
import type { Routed } from "./dispatch.js";
import { NO_USAGE, speaksClientFormat, type Operation, type ProxyBody } from "./operation.js";
import { record } from "./record.js";

/** Relays the routed deployment's answer to the client (streamed or whole, translated where a format asks) and queues its spend; returns the tokens used. */
export async function relay(
  deps: ProxyDeps,
  op: Operation,
  caller: Caller,
  body: ProxyBody,
  res: ServerResponse,
  routed: Routed,
  call: {
    stream: boolean;
    abort: AbortController;
    startTime: Date;
    requestId: string;
    costKey: string;
    caching: Caching | undefined;
    endUser: string | undefined;
  },
): Promise<number> {
  const { stream, abort, startTime, requestId, costKey, caching } = call;
  const { deployment, attempt } = routed;
  res.setHeader("x-litellm-model-id", deployment.id);
  res.setHeader("x-litellm-model-group", deployment.name);
  if (deployment.region) res.setHeader("x-litellm-model-region", deployment.region);
  if (!attempt.ok) {
    if (!attempt.value) throw attempt.error;
    const { response, failureText = "" } = attempt.value;
    const parsed = safeJson(failureText) as { error?: unknown } | undefined;
    // A provider's throttle tells the client when to come back, as a 429 from tandem itself does.
    if (response.status === 429) res.setHeader("retry-after", response.retryAfter ?? "1");
    if (parsed?.error) {
      sendJson(res, response.status, parsed);
      return 0;
    }
    throw new ApiError(
      response.status,
      `upstream for ${deployment.name} answered ${response.status}: ${failureText.slice(0, 500)}`,
      "upstream_error",
    );
  }
  const { response } = attempt.value;

  let usage: Usage | undefined;
  let responseId: string | undefined;
  let estimated = false;
  let images = 0;
  const adapter = adapterFor(deployment);
  // A deployment speaking the client's own format (an Anthropic client, an anthropic/ model) is passed through.
  const native = speaksClientFormat(op, deployment);
  const client = op.client && !native ? op.client : undefined;
  const exchange = native ? op.client?.native : undefined;
  if (stream) {
    const nativeStream = exchange?.stream(deployment);
    const pipeline = new StreamPipeline(
      body.stream_options?.include_usage === true,
      nativeStream?.read ?? adapter.stream?.(deployment),
      client?.stream(body.model),
      native ? (nativeStream?.write ?? "as-is") : undefined,
    );
    res.statusCode = response.status;
    res.setHeader("content-type", pipeline.translated ? "text/event-stream" : (response.contentType ?? "text/event-stream"));
    res.setHeader("cache-control", "no-cache");
    res.setHeader("x-accel-buffering", "no");
    res.flushHeaders();
    try {
      for await (const chunk of response.body) {
        const out = pipeline.feed(chunk);
        if (out.length > 0) res.write(out);
      }
      const rest = pipeline.end();
      if (rest) res.write(rest);
    } catch (error) {
      if (!abort.signal.aborted) {
        deps.log.warn({ err: error, requestId }, "upstream stream broke off");
        // The client learns the stream is incomplete (an error event, no [DONE]) instead of a clean end.
        const message = `upstream for ${deployment.name} broke off the stream: ${error instanceof Error ? error.message : String(error)}`;
        res.write(
          op.client
            ? op.client.streamError(message)
            : `data: ${JSON.stringify({ error: { message, type: "upstream_error", param: null, code: "502" } })}\n\n`,
        );
      }
    }
    res.end();
    responseId = pipeline.relay.id;
    usage = pipeline.relay.usage;
    if (!usage) {
      // Cut short (by the client or the upstream) before usage arrived: the provider still bills
      // what it generated, so the prompt and the text streamed so far are charged, estimated.
      usage = estimateUsage(deployment.upstreamModel, op.prompt(body), pipeline.relay.text);
      estimated = true;
    }
  } else {
    const received = await response.body.text();
    const text = adapter.answer ? translated(adapter.answer, received, deployment) : received;
    const parsed = safeJson(text);
    usage = usageOf(parsed);
    if (op.images) {
      images = imagesOf(parsed);
      // dall-e models report no usage: the images themselves are what is billed.
      if (!usage && images > 0) usage = NO_USAGE;
    }
    if (!usage && op.unmetered && response.status < 300) usage = NO_USAGE;
    // Stored before the client has the answer, so its next request (on any pod) finds it.
    if (caching && !caching.controls.noStore && usage) deps.responseCache!.cache.set(caching.key, text, caching.ttlSeconds * 1000);
    // The upstream's bytes as they came, unless a provider or client format translates them (or, for
    // a native answer, the format rewrites what it routes by: the Responses API's id).
    const out = exchange
      ? exchange.answer(received, deployment)
      : native
        ? received
        : client
          ? translated((answer) => client.answer(answer, body.model), text, deployment)
          : text;
    // The spend row is kept under the id the client got.
    responseId = idOf(out === text ? parsed : safeJson(out));
    res.statusCode = response.status;
    res.setHeader("content-type", out === received ? (response.contentType ?? "application/json") : "application/json");
    res.setHeader("content-length", Buffer.byteLength(out));
    res.end(out);
  }
  if (!usage) {
    deps.log.warn({ requestId, model: deployment.name }, "upstream reported no usage; spend not recorded");
    return 0;
  }
  const cost = costOf(usage, deployment.price, images);
  deps.costEstimates.observe(costKey, cost);
  record(deps, op, caller, { model: deployment.name, usage, cost, responseId, startTime, estimated, endUser: call.endUser });
  return usage.total_tokens ?? 0;
}

/** A provider's answer in OpenAI's shape; one it cannot read is the upstream's fault (502), never a 500. */
function translated(answer: (text: string, deployment: Deployment) => string, received: string, deployment: Deployment): string {
  try {
    return answer(received, deployment);
  } catch {
    throw new ApiError(
      502,
      `upstream for ${deployment.name} answered something that is not a ${deployment.provider} response: ${received.slice(0, 200)}`,
      "upstream_error",
    );
  }
}
