import { randomUUID } from "node:crypto";
import express, { type RequestHandler } from "express";
import type { AppContext } from "./context.js";
import { errorHandler, notFound } from "./errors.js";
import { healthRoutes } from "./routes/health.js";
import { keyRoutes } from "./routes/keys.js";
import { teamRoutes } from "./routes/teams.js";
import { spendRoutes } from "./routes/spend.js";
import { openaiRoutes } from "./routes/openai.js";
import { modelRoutes } from "./routes/models.js";
import { userRoutes } from "./routes/users.js";
import { metricsRoutes } from "./routes/metrics.js";
import { consistencyContext } from "./consistency.js";
import { rejectNul, requireJsonBody, verifyJsonDepth } from "./input-guards.js";

export const BODY_LIMIT = "1mb";

/** Request id, access log line and HTTP metrics for every request. */
function observe(ctx: AppContext): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const header = req.header("x-request-id");
    const id = header && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    res.setHeader("x-request-id", id);
    // While draining, every response closes its connection, so kept-alive
    // clients cannot hold the shutdown open until the drain timeout.
    if (ctx.lifecycle.draining) res.setHeader("connection", "close");
    res.locals.requestId = id;
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The route pattern, not the URL: keeps label cardinality bounded.
      const route = (req.route as { path?: string } | undefined)?.path ?? (res.statusCode === 404 ? "unmatched" : req.path);
      const labels = { method: req.method, route: String(route), status: String(res.statusCode) };
      ctx.metrics.httpRequests.inc(labels);
      ctx.metrics.httpDuration.observe(labels, seconds);
      if (!req.path.startsWith("/health") && req.path !== "/metrics") {
        ctx.log.info(
          { requestId: id, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000) },
          "request",
        );
      }
    });
    next();
  };
}

/**
 * The API. `/metrics` is on it unless `separateMetrics` (METRICS_PORT): then only the metrics
 * app serves it, so a NetworkPolicy can keep scrapers and API clients apart.
 */
export function createApp(ctx: AppContext, options: { separateMetrics?: boolean } = {}): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(observe(ctx));
  app.use(healthRoutes(ctx));
  if (!options.separateMetrics) app.use(metricsRoutes(ctx));
  app.use(requireJsonBody);
  app.use(express.json({ limit: BODY_LIMIT, strict: true, type: ["application/json", "application/*+json"], verify: verifyJsonDepth }));
  app.use(rejectNul);
  app.use(consistencyContext());
  // The hot path first: Express walks every router before the one that
  // matches, and each walk allocates (a quarter of all allocation per
  // completion when the OpenAI routes came last).
  app.use(openaiRoutes(ctx));
  app.use(modelRoutes(ctx));
  app.use(keyRoutes(ctx));
  app.use(userRoutes(ctx));
  app.use(teamRoutes(ctx));
  app.use(spendRoutes(ctx));
  app.use(notFound);
  app.use(errorHandler(ctx.log));
  return app;
}

/** `/metrics` alone, for METRICS_PORT. */
export function createMetricsApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(metricsRoutes(ctx));
  app.use(notFound);
  return app;
}
