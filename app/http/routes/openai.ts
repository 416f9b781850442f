import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { validate } from "../validate.js";
import { ApiError } from "../../services/errors.js";
import { MessagesRequest, messagesFormat } from "./messages.js";
import { batchCompletions } from "./batch-completions.js";
import { ResponsesRequestSchema, responsesFormat } from "./responses.js";
import { proxy } from "../../services/proxy/pipeline.js";
import type { Operation as PipelineOperation, ProxyBody } from "../../services/proxy/operation.js";
import type { Deployment } from "../../config/model-config.js";

// Only what the proxy itself needs is checked; everything else is the
// upstream's business and passes through untouched.
const base = {
  model: z.string().min(1),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
};

/** One OpenAI operation tandem proxies, bound to HTTP: its routes and the schema its body is checked against. */
interface Operation extends PipelineOperation {
  paths: string[];
  schema: z.ZodType<z.infer<z.ZodObject<typeof base>>>;
  /** A comma-separated `model` asks each model (LiteLLM's batch completions). */
  batches?: true;
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
    paths: ["/v1/responses", "/responses"],
    upstreamPath: "/chat/completions",
    callType: "aresponses",
    schema: ResponsesRequestSchema,
    prompt: (body) => body.messages,
    streams: true,
    client: responsesFormat,
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

/** The HTTP side of a proxied request: who calls, a batch of models, the body checked; then the proxy pipeline. */
async function handle(ctx: AppContext, op: Operation, call: ProxyCall, res: ServerResponse): Promise<void> {
  const caller = await callerOf(ctx, call.headers);
  const named = (call.body as { model?: unknown } | null)?.model;
  if (op.batches && typeof named === "string" && named.includes(",")) return batchCompletions(ctx, call, res, op.paths[0]!);
  const body = validate(op.schema, withDefaultModel(ctx, op, call.body)) as ProxyBody;
  await proxy(ctx, op, { caller, body, headers: call.headers, requestId: call.requestId }, res);
}

function withDefaultModel(ctx: AppContext, op: Operation, body: unknown): unknown {
  if (!op.defaultMode || typeof body !== "object" || body === null || "model" in body) return body;
  const model = ctx.router.modelNames().find((name) => ctx.router.deployments(name)[0]?.mode === op.defaultMode);
  if (!model)
    throw ApiError.badRequest(`model: required (no model_list entry has model_info.mode ${op.defaultMode} to default to)`, "model");
  return { ...body, model };
}
