import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { validate } from "../validate.js";
import { sendJson } from "../errors.js";
import { budgetScopes, checkAccess, limitScopes, resolveModel } from "../../services/access/access.js";
import { costOf, type Usage } from "../../services/billing/spend.js";
import { PROXY_BUDGET_USER } from "../../services/billing/proxy-budget.js";
import { cacheControls, cacheKey, type CacheControls } from "../../services/upstream/cache-key.js";
import { estimateUsage } from "../../services/billing/token-estimate.js";
import { ApiError } from "../../services/errors.js";
import { hashKey } from "../../services/access/key-hash.js";
import { idOf, imagesOf, safeJson, usageOf } from "../../services/upstream/upstream-response.js";
import type { UpstreamResponse } from "../../services/upstream/upstream-client.js";
import { adapterFor } from "../../services/upstream/providers/index.js";
import { StreamPipeline } from "../../services/upstream/stream-pipeline.js";
import type { ClientFormat } from "../../services/upstream/formats/client-format.js";
import { MessagesRequest, messagesFormat } from "./messages.js";
import { batchCompletions } from "./batch-completions.js";
import type { NativeRequest, OperationPath } from "../../services/upstream/providers/provider.js";
import { NoDeploymentAvailable, type Attempt, type Busy } from "../../services/upstream/model-router.js";
import { FREE, type Ticket } from "../../services/access/admission.js";
import type { Caller } from "../../services/access/auth.js";
import type { Deployment } from "../../config/model-config.js";

// Only what the proxy itself needs is checked; everything else is the
// upstream's business and passes through untouched.
const base = {
  model: z.string().min(1),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
};

/** One OpenAI operation tandem proxies: its routes, the upstream path and LiteLLM's call_type for the spend row. */
interface Operation {
  paths: string[];
  upstreamPath: OperationPath;
  callType: string;
  schema: z.ZodType<z.infer<z.ZodObject<typeof base>>>;
  /** The prompt, as chat messages, for estimating a stream cut short. */
  prompt(body: Record<string, unknown>): unknown;
  streams: boolean;
  /** Answers images (charged per image where the deployment has a per-image price). */
  images?: true;
  /** A comma-separated `model` asks each model (LiteLLM's batch completions). */
  batches?: true;
  /** A client format other than OpenAI's (Anthropic's Messages): its body is converted to a chat body and back. */
  client?: ClientFormat<Record<string, unknown>>;
  /** Providers report no usage for it (moderations): recorded at 0 instead of warned about. */
  unmetered?: true;
  /** A request without `model` goes to the first model group of this mode (OpenAI's moderations default their model). */
  defaultMode?: Deployment["mode"];
}

const OPERATIONS: Operation[] = [
  {
    paths: ["/v1/chat/completions", "/chat/completions"],
    upstreamPath: "/chat/completions",
    callType: "acompletion",
    schema: z.object({ ...base, messages: z.array(z.unknown()).min(1) }).loose(),
    prompt: (body) => body.messages,
    streams: true,
    batches: true,
  },
  {
    paths: ["/v1/completions", "/completions"],
    upstreamPath: "/completions",
    callType: "atext_completion",
    schema: z.object({ ...base, prompt: z.union([z.string(), z.array(z.unknown()).min(1)]) }).loose(),
    prompt: (body) => [{ role: "user", content: Array.isArray(body.prompt) ? body.prompt.join("\n") : body.prompt }],
    streams: true,
  },
  {
    paths: ["/v1/embeddings", "/embeddings"],
    upstreamPath: "/embeddings",
    callType: "aembedding",
    schema: z.object({ ...base, input: z.union([z.string(), z.array(z.unknown()).min(1)]) }).loose(),
    prompt: () => [],
    streams: false,
  },
  {
    paths: ["/v1/images/generations", "/images/generations"],
    upstreamPath: "/images/generations",
    callType: "aimage_generation",
    schema: z.object({ ...base, prompt: z.string().min(1), n: z.number().int().min(1).max(10).optional() }).loose(),
    prompt: () => [],
    streams: false,
    images: true,
  },
  {
    paths: ["/v1/messages"],
    upstreamPath: "/chat/completions",
    callType: "anthropic_messages",
    schema: MessagesRequest,
    prompt: (body) => body.messages,
    streams: true,
    client: messagesFormat,
  },
  {
    paths: ["/v1/moderations", "/moderations"],
    upstreamPath: "/moderations",
    callType: "amoderation",
    schema: z.object({ ...base, input: z.union([z.string(), z.array(z.unknown()).min(1)]) }).loose(),
    prompt: () => [],
    streams: false,
    defaultMode: "moderation",
    unmetered: true,
  },
];

/** The usage of an answer that used no tokens (an image priced per image, a moderation, a cache hit). */
const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/** Whether the deployment speaks the request's own client format (an Anthropic client, an anthropic/ model): then it is passed through. */
const speaksClientFormat = (op: Operation, deployment: Deployment) => op.client?.native === deployment.provider;

// Worth another deployment: the upstream is overloaded, failing or timed out; a 4xx is the request's own fault.
const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

type Sent = { response: UpstreamResponse; failureText?: string };

/** What a proxied call needs of its HTTP request, whichever path read it. */
export interface ProxyCall {
  body: unknown;
  headers: IncomingHttpHeaders;
  requestId: string;
}

export type ProxyHandler = (call: ProxyCall, res: ServerResponse) => Promise<void>;

/** Each OpenAI route's path and its handler (the lean listener serves them straight from Node's server). */
export function openaiHandlers(ctx: AppContext): Map<string, ProxyHandler> {
  const handlers = new Map<string, ProxyHandler>();
  for (const op of OPERATIONS) {
    const handler: ProxyHandler = (call, res) => handle(ctx, op, call, res);
    for (const path of op.paths) handlers.set(path, handler);
  }
  return handlers;
}

/** The same handlers behind Express, for the requests the lean listener leaves to it (a query string, a compressed or chunked body). */
export function openaiRoutes(handlers: Map<string, ProxyHandler>): Router {
  const router = Router();
  for (const [path, handler] of handlers) {
    router.post(path, (req, res) => handler({ body: req.body, headers: req.headers, requestId: String(res.locals.requestId) }, res));
  }
  // Azure OpenAI's paths, which LiteLLM serves too: clients built with AzureOpenAI name the model group in the path.
  for (const operation of ["/chat/completions", "/completions", "/embeddings", "/images/generations"]) {
    const handler = handlers.get(`/v1${operation}`)!;
    router.post(`/openai/deployments/:model${operation}`, (req, res) => {
      const body = typeof req.body === "object" && req.body !== null ? { model: req.params.model, ...(req.body as object) } : req.body;
      return handler({ body, headers: req.headers, requestId: String(res.locals.requestId) }, res);
    });
  }
  return router;
}

async function handle(ctx: AppContext, op: Operation, call: ProxyCall, res: ServerResponse): Promise<void> {
  const caller = await callerOf(ctx, call.headers);
  const named = (call.body as { model?: unknown } | null)?.model;
  if (op.batches && typeof named === "string" && named.includes(",")) return batchCompletions(ctx, call, res, op.paths[0]!);
  const valid = validate(op.schema, withDefaultModel(ctx, op, call.body)) as z.infer<z.ZodObject<typeof base>> & Record<string, unknown>;
  // The pipeline speaks OpenAI chat; another client format is converted (and kept for deployments that speak it).
  const original = op.client ? clientRequest(op.client, valid, call.headers) : undefined;
  const body = (original?.chat ?? valid) as typeof valid;
  const model = resolveModel(caller, body.model);
  checkAccess(caller, model, ctx.router);
  // LiteLLM checks the global budget for virtual keys; the master key is the admin's.
  if (caller.kind === "key") await ctx.proxyBudget?.check();
  const caching = cachingFor(ctx, op, model, body);
  // Budgets hold under concurrency: the request reserves its expected cost until its spend is recorded.
  const costKey = `${caller.kind === "key" ? caller.key.token : "master"}|${model}`;
  const ticket = await admit(ctx, caller, costKey);
  let tokens = 0;
  try {
    tokens = await forward(ctx, op, caller, model, body, res, costKey, call.requestId, caching, original);
  } finally {
    ticket.done(tokens);
  }
}

/** How long a request waits for requests in flight to release a budget they hold before it is refused (429). */
const BUDGET_WAIT_MS = 5000;

/**
 * Admits the request against its rate limits and budgets (one Redis round trip in a fleet). While
 * requests in flight hold the rest of a budget (a key's first requests, before any cost is known,
 * each hold all of it), the request waits for them — briefly, with backoff — instead of being
 * refused at once: a client's second request then runs once the first is charged, rather than failing.
 */
async function admit(ctx: AppContext, caller: Caller, costKey: string) {
  const deadline = Date.now() + BUDGET_WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
    try {
      return await ctx.admissions.admit({
        limits: limitScopes(caller),
        budgets: budgetScopes(caller, (scope, snapshot) => ctx.spend.unwrittenParts(scope, snapshot)),
        costKey,
      });
    } catch (error) {
      if (!(error instanceof ApiError) || error.type !== "budget_reserved" || Date.now() + pause > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** A request in a client format: as sent, as a chat request (or why it cannot be one), and the headers its own provider reads. */
interface ClientRequest {
  body: Record<string, unknown>;
  chat: Record<string, unknown>;
  untranslatable?: ApiError;
  headers: Record<string, string>;
}

// Anthropic's beta features are switched on by header: a deployment that speaks the format gets it.
const NATIVE_HEADERS = ["anthropic-beta"];

function clientRequest(
  format: ClientFormat<Record<string, unknown>>,
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
): ClientRequest {
  const carried = Object.fromEntries(NATIVE_HEADERS.flatMap((name) => (typeof headers[name] === "string" ? [[name, headers[name]]] : [])));
  try {
    return { body, chat: format.toChat(body), headers: carried };
  } catch (error) {
    // Content only the format's own provider takes (documents, server tools): fine for its deployments.
    if (!(error instanceof ApiError)) throw error;
    return { body, chat: { model: body.model, stream: body.stream, messages: [] }, untranslatable: error, headers: carried };
  }
}

function withDefaultModel(ctx: AppContext, op: Operation, body: unknown): unknown {
  if (!op.defaultMode || typeof body !== "object" || body === null || "model" in body) return body;
  const model = ctx.router.modelNames().find((name) => ctx.router.deployments(name)[0]?.mode === op.defaultMode);
  if (!model)
    throw ApiError.badRequest(`model: required (no model_list entry has model_info.mode ${op.defaultMode} to default to)`, "model");
  return { ...body, model };
}

/** Sends the request to a deployment (retrying and falling back as configured), relays the answer, queues its spend; returns the tokens used. */
async function forward(
  ctx: AppContext,
  op: Operation,
  caller: Caller,
  model: string,
  body: z.infer<z.ZodObject<typeof base>> & Record<string, unknown>,
  res: ServerResponse,
  costKey: string,
  requestId: string,
  caching: Caching | undefined,
  original: ClientRequest | undefined,
): Promise<number> {
  const startTime = new Date();
  if (caching && !caching.controls.noCache) {
    const cached = await ctx.responseCache!.cache.get(caching.key);
    if (cached !== undefined) return serveCached(ctx, op, caller, model, caching.key, cached, res, startTime, endUserOf(body));
  }
  // A client that goes away mid-request stops the upstream call too.
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const stream = op.streams && body.stream === true;

  // The answering deployment's rpm/tpm admission, settled with the tokens once the answer is in.
  let deploymentLimits: Ticket | undefined;
  let routed;
  try {
    routed = await ctx.router.route<Sent>(model, async (deployment) => {
      const admitted = await admitDeployment(ctx, deployment);
      if ("busy" in admitted) return admitted;
      let attempt: Attempt<Sent>;
      try {
        // A deployment that speaks the client's own format gets the client's body, with its own model name;
        // one that does not gets the translation, or the reason there is none (the client's 400).
        const native =
          speaksClientFormat(op, deployment) && original
            ? { body: { ...original.body, model: deployment.upstreamModel }, headers: original.headers }
            : undefined;
        attempt =
          !native && original?.untranslatable
            ? { ok: false, retryable: false, error: original.untranslatable }
            : await tryDeployment(ctx, op, deployment, payloadFor(body, deployment, stream), abort.signal, stream, native);
      } catch (error) {
        admitted.done(0);
        throw error;
      }
      if (attempt.ok) deploymentLimits = admitted;
      else admitted.done(0);
      const outcome = attempt.ok ? "ok" : attempt.retryable ? "retried" : "failed";
      ctx.metrics.upstreamAttempts.inc({ model_group: deployment.pattern ?? deployment.name, deployment: deployment.id, outcome });
      return attempt;
    });
  } catch (error) {
    if (error instanceof NoDeploymentAvailable)
      throw ApiError.rateLimited(
        `No deployments available for model ${error.model}: every deployment is ${error.why}. Try again in ${Math.ceil(error.retryAfterMs / 1000)}s`,
        error.retryAfterMs,
      );
    throw error;
  }
  let settled = 0;
  try {
    settled = await relay(ctx, op, caller, body, res, routed, { stream, abort, startTime, requestId, costKey, caching });
    return settled;
  } finally {
    deploymentLimits?.done(settled);
  }
}

/**
 * A deployment with rpm/tpm in model_list takes a request only within them (counted for the
 * fleet when there is a Redis); at its limit it is busy and another deployment is tried.
 */
async function admitDeployment(ctx: AppContext, deployment: Deployment): Promise<Ticket | Busy> {
  if (deployment.rpm === undefined && deployment.tpm === undefined) return FREE;
  try {
    return await ctx.admissions.admit({
      limits: [{ kind: "deployment", id: deployment.id, rpm: deployment.rpm ?? null, tpm: deployment.tpm ?? null, maxParallel: null }],
      budgets: [],
      costKey: "",
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 429)
      return { ok: false, retryable: true, busy: { retryAfterMs: Number(error.headers?.["retry-after"] ?? 1) * 1000 } };
    throw error;
  }
}

/** Relays the routed deployment's answer to the client and queues its spend; returns the tokens used. */
async function relay(
  ctx: AppContext,
  op: Operation,
  caller: Caller,
  body: z.infer<z.ZodObject<typeof base>> & Record<string, unknown>,
  res: ServerResponse,
  routed: { deployment: Deployment; attempt: Exclude<Attempt<Sent>, Busy>; tries: number },
  call: { stream: boolean; abort: AbortController; startTime: Date; requestId: string; costKey: string; caching: Caching | undefined },
): Promise<number> {
  const { stream, abort, startTime, requestId, costKey, caching } = call;
  const { deployment, attempt } = routed;
  res.setHeader("x-litellm-model-id", deployment.id);
  res.setHeader("x-litellm-model-group", deployment.name);
  res.setHeader("x-litellm-attempted-retries", String(routed.tries - 1));
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
  if (stream) {
    const pipeline = new StreamPipeline(
      body.stream_options?.include_usage === true,
      adapter.stream?.(deployment),
      client?.stream(body.model),
      native,
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
        ctx.log.warn({ err: error, requestId }, "upstream stream broke off");
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
    responseId = idOf(parsed);
    if (op.images) {
      images = imagesOf(parsed);
      // dall-e models report no usage: the images themselves are what is billed.
      if (!usage && images > 0) usage = NO_USAGE;
    }
    if (!usage && op.unmetered && response.status < 300) usage = NO_USAGE;
    // Stored before the client has the answer, so its next request (on any pod) finds it.
    if (caching && !caching.controls.noStore && usage) ctx.responseCache!.cache.set(caching.key, text, caching.ttlSeconds * 1000);
    // The upstream's bytes as they came, unless a provider or client format translates them.
    const out = native ? received : client ? translated((answer) => client.answer(answer, body.model), text, deployment) : text;
    res.statusCode = response.status;
    res.setHeader("content-type", out === received ? (response.contentType ?? "application/json") : "application/json");
    res.setHeader("content-length", Buffer.byteLength(out));
    res.end(out);
  }
  if (!usage) {
    ctx.log.warn({ requestId, model: deployment.name }, "upstream reported no usage; spend not recorded");
    return 0;
  }
  const cost = costOf(usage, deployment.price, images);
  ctx.costEstimates.observe(costKey, cost);
  record(ctx, op, caller, { model: deployment.name, usage, cost, responseId, startTime, estimated, endUser: endUserOf(body) });
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

/** How this request uses the response cache (undefined: not at all — off, a stream, or a call type not cached). */
interface Caching {
  key: string;
  controls: CacheControls;
  ttlSeconds: number;
}

function cachingFor(ctx: AppContext, op: Operation, model: string, body: Record<string, unknown>): Caching | undefined {
  const settings = ctx.responseCache?.settings;
  // Cached answers are OpenAI's; a client format's are not cached.
  if (!settings || op.client || body.stream === true || !settings.callTypes.includes(op.callType)) return undefined;
  const controls = cacheControls(body);
  if (settings.optIn && !controls.useCache) return undefined;
  return { key: cacheKey(settings.namespace, op.callType, model, body), controls, ttlSeconds: controls.ttlSeconds ?? settings.ttlSeconds };
}

/**
 * A cache hit: the stored answer under a new id (each answer a client gets
 * has its own spend row), no upstream call, charged 0 and logged with
 * `cache_hit`. LiteLLM's header names the key.
 */
function serveCached(
  ctx: AppContext,
  op: Operation,
  caller: Caller,
  model: string,
  key: string,
  cached: string,
  res: ServerResponse,
  startTime: Date,
  endUser: string | undefined,
): number {
  const answer = JSON.parse(cached) as Record<string, unknown>;
  const responseId = typeof answer.id === "string" ? `${answer.id.split("-")[0]}-${randomUUID().replaceAll("-", "")}` : undefined;
  if (responseId) answer.id = responseId;
  const text = JSON.stringify(answer);
  res.statusCode = 200;
  res.setHeader("content-type", "application/json");
  res.setHeader("x-litellm-cache-key", key);
  res.setHeader("x-litellm-model-group", model);
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
  const usage = usageOf(answer) ?? NO_USAGE;
  ctx.metrics.cacheHits.inc({ model_group: ctx.router.deployments(model)[0]?.pattern ?? model });
  record(ctx, op, caller, { model, usage, cost: 0, responseId, startTime, estimated: false, cacheKey: key, endUser });
  return 0;
}

/** One call to one deployment: its answer, or why it failed and whether another deployment is worth a try. */
async function tryDeployment(
  ctx: AppContext,
  op: Operation,
  deployment: Deployment,
  payload: Record<string, unknown>,
  signal: AbortSignal,
  stream: boolean,
  native: NativeRequest | undefined,
): Promise<Attempt<Sent>> {
  const adapter = adapterFor(deployment);
  if (!adapter.operations.includes(op.upstreamPath))
    // The request's own fault, not the deployment's: not retried, never a cooldown.
    return {
      ok: false,
      retryable: false,
      error: ApiError.badRequest(
        `model: ${deployment.name} is a ${deployment.provider}/ deployment, which serves chat completions only`,
        "model",
      ),
    };
  try {
    const wire = await adapter.request(deployment, op.upstreamPath, payload, stream, native);
    const response = await ctx.upstream.post(deployment, wire, signal, stream);
    if (response.status < 400) return { ok: true, value: { response } };
    const text = await response.body.text();
    const failureText = adapter.failure ? adapter.failure(response.status, text) : text;
    return { ok: false, retryable: RETRYABLE(response.status), value: { response, failureText } };
  } catch (error) {
    // Unreachable or timed out: another deployment may do. The client hanging up (499) ends it.
    // Unreachable, timed out or its credentials unavailable: another deployment may do. A 4xx made
    // from the request itself (a tool call's arguments, a content part the provider cannot take) is
    // the client's, and the client hanging up (499) ends it.
    if (error instanceof ApiError && error.status !== 499) return { ok: false, retryable: RETRYABLE(error.status), error };
    throw error;
  }
}

/** The body for this deployment: its own model name, and usage asked for on streams (without it a stream cannot be charged). */
function payloadFor(body: Record<string, unknown>, deployment: Deployment, stream: boolean): Record<string, unknown> {
  // `cache` is tandem's (LiteLLM's) to read; an upstream would refuse it as an unknown parameter.
  const { cache: _cache, ...rest } = body;
  const payload: Record<string, unknown> = { ...rest, model: deployment.upstreamModel };
  if (stream) {
    const options = typeof payload.stream_options === "object" && payload.stream_options !== null ? payload.stream_options : {};
    payload.stream_options = { ...options, include_usage: true };
  }
  return payload;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The end user a request names — OpenAI's `user`, Anthropic's `metadata.user_id` — LiteLLM's "customer". */
function endUserOf(body: Record<string, unknown>): string | undefined {
  const named = body.user ?? (body.metadata as { user_id?: unknown } | undefined)?.user_id;
  // Lone surrogates become U+FFFD here, as they would on their way to the database anyway.
  return typeof named === "string" && named.length > 0 ? named.slice(0, 256).replace(LONE_SURROGATE, "\uFFFD") : undefined;
}

// After the response, spend joins the pod's queue (written in batches,
// retried through writer outages): it never turns a completed request into an
// error. The row's identity is the upstream's response id — what the client
// sees, and what LiteLLM's /spend/logs?request_id= takes — or one tandem makes;
// the client's x-request-id is only for correlating logs, so no header can
// make a spend write collide.
function record(
  ctx: AppContext,
  op: Operation,
  caller: Caller,
  call: {
    model: string;
    usage: Usage;
    cost: number;
    responseId: string | undefined;
    startTime: Date;
    estimated: boolean;
    cacheKey?: string;
    endUser: string | undefined;
  },
): void {
  ctx.spend.enqueue({
    requestId: call.responseId ?? `tandem-${randomUUID()}`,
    token: caller.kind === "key" ? caller.key.token : hashKey(ctx.masterKey),
    keyed: caller.kind === "key",
    teamId: caller.kind === "key" ? caller.key.team_id : null,
    userId: caller.kind === "key" ? caller.key.user_id : null,
    endUser: call.endUser,
    proxyBudgetUser: ctx.proxyBudget && PROXY_BUDGET_USER,
    callType: op.callType,
    model: call.model,
    usage: call.usage,
    estimated: call.estimated,
    cost: call.cost,
    startTime: call.startTime,
    endTime: new Date(),
    cacheKey: call.cacheKey,
  });
}
