import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Express } from "express";
import { runWithConsistency } from "../db/consistency.js";
import type { AppContext } from "./context.js";
import { consistencyFor } from "./consistency.js";
import { answerError, apiErrorOf } from "./errors.js";
import { isPlainJson, readPlainJson } from "./json-body.js";
import { observeRequest } from "./observe.js";
import type { ProxyHandler } from "./routes/openai.js";

/**
 * Which requests the lean path takes: a POST of plain JSON to one of the
 * proxied routes, with no query string. Express's layers cost more CPU per
 * completion than all of tandem's own work (0.43 → 0.18 ms when skipped,
 * `npm run bench:proxy`), so the data plane's ordinary request skips them;
 * every other request, including the odd shapes of the same routes, is
 * Express's, which runs the same handlers.
 */
export function leanHandlerFor(
  req: IncomingMessage,
  handlers: ReadonlyMap<string, ProxyHandler>,
  limitBytes: number,
): ProxyHandler | undefined {
  if (req.method !== "POST" || req.url === undefined) return undefined;
  const handler = handlers.get(req.url);
  return handler && isPlainJson(req, limitBytes) ? handler : undefined;
}

/** Node's request listener: the lean path for the proxied routes, Express for the rest. */
export function createListener(
  ctx: AppContext,
  app: Express,
  handlers: ReadonlyMap<string, ProxyHandler>,
  limitBytes: number,
): RequestListener {
  return (req, res) => {
    const handler = leanHandlerFor(req, handlers, limitBytes);
    if (handler) serveLean(ctx, handler, req, res);
    else app(req, res);
  };
}

function serveLean(ctx: AppContext, handler: ProxyHandler, req: IncomingMessage, res: ServerResponse): void {
  const path = req.url!;
  const requestId = observeRequest(ctx, req, res, path, () => path);
  const fail = (error: unknown) => answerError(res, apiErrorOf(error, ctx.log, { requestId, path }));
  readPlainJson(req)
    .then((body) => {
      // Entered after the body is read: its stream callbacks would lose the context.
      const consistency = consistencyFor(req.headers["x-tandem-min-lsn"], res);
      return runWithConsistency(consistency, () => handler({ body, headers: req.headers, requestId }, res));
    })
    .catch(fail);
}
