import type { RequestListener } from "node:http";
import express, { type RequestHandler } from "express";
import type { AppContext } from "./context.js";
import { errorHandler, notFound } from "./errors.js";
import { healthRoutes } from "./routes/health.js";
import { keyRoutes } from "./routes/keys.js";
import { teamRoutes } from "./routes/teams.js";
import { spendRoutes } from "./routes/spend.js";
import { spendAnalyticsRoutes } from "./routes/spend-analytics.js";
import { uiRoutes } from "./routes/ui.js";
import { uiDatabaseRoutes } from "./routes/ui-database.js";
import { openaiHandlers, openaiRoutes, type ProxyHandler } from "./routes/openai.js";
import { messagesRoutes } from "./routes/messages.js";
import { responsesRoutes } from "./routes/responses.js";
import { createListener } from "./listener.js";
import { observeRequest } from "./observe.js";
import { modelRoutes } from "./routes/models.js";
import { modelManagementRoutes } from "./routes/model-management.js";
import { userRoutes } from "./routes/users.js";
import { budgetRoutes } from "./routes/budgets.js";
import { endUserRoutes } from "./routes/end-users.js";
import { organizationRoutes } from "./routes/organizations.js";
import { metricsRoutes } from "./routes/metrics.js";
import { deploymentHealthRoutes } from "./routes/deployment-health.js";
import { routeListRoutes } from "./routes/route-list.js";
import { passThroughRoutes } from "./routes/pass-through.js";
import { consistencyContext } from "./consistency.js";
import { rejectNul, requireJsonBody, verifyJsonDepth } from "./input-guards.js";

/** 1 MiB, as Express's "1mb". */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Request id, access log line and HTTP metrics for every request Express serves. */
function observe(ctx: AppContext): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    res.locals.requestId = observeRequest(ctx, req, res, path, () =>
      String((req.route as { path?: string } | undefined)?.path ?? (res.statusCode === 404 ? "unmatched" : path)),
    );
    next();
  };
}

/**
 * The API: the proxied OpenAI routes' plain JSON POSTs on the lean path,
 * everything else through Express. `/metrics` is on it unless
 * `separateMetrics` (METRICS_PORT): then only the metrics app serves it, so a
 * NetworkPolicy can keep scrapers and API clients apart.
 */
export function createApi(ctx: AppContext, options: { separateMetrics?: boolean } = {}): RequestListener {
  const handlers = openaiHandlers(ctx);
  return createListener(ctx, createApp(ctx, handlers, options), handlers, BODY_LIMIT_BYTES);
}

function createApp(ctx: AppContext, handlers: Map<string, ProxyHandler>, options: { separateMetrics?: boolean }): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(observe(ctx));
  app.use(healthRoutes(ctx));
  if (!options.separateMetrics) app.use(metricsRoutes(ctx));
  app.use(uiRoutes(ctx));
  // Before the JSON parser: a pass-through body is streamed to its target as it came.
  app.use(passThroughRoutes(ctx, ctx.passThrough));
  app.use(requireJsonBody);
  app.use(
    express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: ["application/json", "application/*+json"], verify: verifyJsonDepth }),
  );
  app.use(rejectNul);
  app.use(consistencyContext());
  // Only the request shapes the lean listener leaves to Express reach these.
  app.use(openaiRoutes(handlers));
  app.use(messagesRoutes(ctx));
  app.use(responsesRoutes(ctx));
  app.use(modelRoutes(ctx));
  app.use(modelManagementRoutes(ctx));
  app.use(keyRoutes(ctx));
  app.use(userRoutes(ctx));
  app.use(teamRoutes(ctx));
  app.use(budgetRoutes(ctx));
  app.use(endUserRoutes(ctx));
  app.use(organizationRoutes(ctx));
  app.use(spendRoutes(ctx));
  app.use(spendAnalyticsRoutes(ctx));
  app.use(uiDatabaseRoutes(ctx));
  app.use(deploymentHealthRoutes(ctx));
  app.use(routeListRoutes(app));
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
