import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { validate } from "../validate.js";
import { randomUUID } from "node:crypto";
import { budgetScopes, callUpstream, checkAccess, idOf, safeJson, UsageTap, usageOf } from "../../services/chat.js";
import { costOf, type Usage } from "../../services/spend.js";
import { estimateUsage } from "../../services/token-estimate.js";
import { ApiError } from "../../services/errors.js";
import type { ModelRoute } from "../../config/model-config.js";
import type { Caller } from "../../services/auth.js";
import { hashKey } from "../../services/key-hash.js";

// Only what the proxy itself needs is checked; everything else is the
// upstream's business and passes through untouched.
const ChatRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(z.unknown()).min(1),
    stream: z.boolean().optional(),
  })
  .loose();

export function chatRoutes(ctx: AppContext): Router {
  const router = Router();
  const handler = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req, res);
    const body = validate(ChatRequest, req.body);
    const route = checkAccess(caller, body.model, ctx.models);
    // Budgets hold under concurrency: the request reserves its expected cost until its spend is recorded.
    const costKey = `${caller.kind === "key" ? caller.key.token : "master"}|${route.name}`;
    const release = ctx.budgets.admit(
      budgetScopes(caller, (by) => ctx.spend.unwritten(by)),
      costKey,
    );
    try {
      const startTime = new Date();

      // A client that goes away mid-request stops the upstream call too.
      const abort = new AbortController();
      res.on("close", () => {
        if (!res.writableFinished) abort.abort();
      });
      const upstream = await callUpstream(route, body, abort.signal);

      if (!upstream.ok) {
        const text = await upstream.text();
        const parsed = safeJson(text) as { error?: unknown } | undefined;
        if (parsed?.error) {
          res.status(upstream.status).json(parsed);
        } else {
          throw new ApiError(
            upstream.status,
            `upstream for ${route.name} answered ${upstream.status}: ${text.slice(0, 500)}`,
            "upstream_error",
            upstream.status,
          );
        }
        return;
      }

      let usage: Usage | undefined;
      let responseId: string | undefined;
      let estimated = false;
      if (body.stream === true && upstream.body) {
        res.status(upstream.status);
        res.setHeader("content-type", upstream.headers.get("content-type") ?? "text/event-stream");
        res.setHeader("cache-control", "no-cache");
        res.setHeader("x-accel-buffering", "no");
        res.flushHeaders();
        const tap = new UsageTap();
        try {
          for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
            tap.feed(chunk);
            res.write(chunk);
          }
        } catch (error) {
          if (!abort.signal.aborted) {
            ctx.log.warn({ err: error, requestId: res.locals.requestId }, "upstream stream broke off");
            // The client learns the stream is incomplete (an error event, no [DONE]) instead of a clean end.
            const message = `upstream for ${route.name} broke off the stream: ${error instanceof Error ? error.message : String(error)}`;
            res.write(`data: ${JSON.stringify({ error: { message, type: "upstream_error", param: null, code: 502 } })}\n\n`);
          }
        }
        res.end();
        responseId = tap.id;
        usage = tap.usage;
        if (!usage) {
          // Cut short (by the client or the upstream) before usage arrived: the provider still bills
          // what it generated, so the prompt and the text streamed so far are charged, estimated.
          usage = estimateUsage(route.upstreamModel, body.messages, tap.text);
          estimated = true;
        }
      } else {
        const text = await upstream.text();
        res
          .status(upstream.status)
          .type(upstream.headers.get("content-type") ?? "application/json")
          .send(text);
        const parsed = safeJson(text);
        usage = usageOf(parsed);
        responseId = idOf(parsed);
      }
      record(ctx, caller, route, usage, responseId, startTime, String(res.locals.requestId), estimated);
    } finally {
      release();
    }
  };
  router.post("/v1/chat/completions", handler);
  router.post("/chat/completions", handler);
  return router;
}

// After the response, spend joins the pod's queue (written in batches,
// retried through writer outages): it never turns a completed request into an
// error. The row's identity is the upstream's response id — what the client
// sees, and what LiteLLM's /spend/logs?request_id= takes — or one tandem makes;
// the client's x-request-id is only for correlating logs, so no header can
// make a spend write collide.
function record(
  ctx: AppContext,
  caller: Caller,
  route: ModelRoute,
  usage: Usage | undefined,
  responseId: string | undefined,
  startTime: Date,
  correlationId: string,
  estimated: boolean,
): void {
  if (!usage) {
    ctx.log.warn({ requestId: correlationId, model: route.name }, "upstream reported no usage; spend not recorded");
    return;
  }
  const cost = costOf(usage, route);
  ctx.budgets.observe(`${caller.kind === "key" ? caller.key.token : "master"}|${route.name}`, cost);
  ctx.spend.enqueue({
    requestId: responseId ?? `tandem-${randomUUID()}`,
    token: caller.kind === "key" ? caller.key.token : hashKey(ctx.masterKey),
    keyed: caller.kind === "key",
    teamId: caller.kind === "key" ? caller.key.team_id : null,
    model: route.name,
    usage,
    estimated,
    cost,
    startTime,
    endTime: new Date(),
  });
}
