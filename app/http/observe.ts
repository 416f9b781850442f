import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppContext } from "./context.js";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Request id, access log line and HTTP metrics for one request, whichever
 * path serves it. `routeOf` is asked once the response is done: the route
 * pattern, not the URL, keeps label cardinality bounded. Returns the request id.
 */
export function observeRequest(ctx: AppContext, req: IncomingMessage, res: ServerResponse, path: string, routeOf: () => string): string {
  const started = process.hrtime.bigint();
  const header = req.headers["x-request-id"];
  const id = typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
  res.setHeader("x-request-id", id);
  // While draining, every response closes its connection, so kept-alive
  // clients cannot hold the shutdown open until the drain timeout.
  if (ctx.lifecycle.draining) res.setHeader("connection", "close");
  res.on("finish", () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const labels = { method: req.method ?? "", route: routeOf(), status: String(res.statusCode) };
    ctx.metrics.httpRequests.inc(labels);
    ctx.metrics.httpDuration.observe(labels, seconds);
    if (!path.startsWith("/health") && path !== "/metrics") {
      ctx.log.info({ requestId: id, method: req.method, path, status: res.statusCode, ms: Math.round(seconds * 1000) }, "request");
    }
  });
  return id;
}
