import { Router } from "express";
import type { AppContext } from "../context.js";

/** Prometheus exposition of the process's metrics. */
export function metricsRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/metrics", async (_req, res) => {
    res.setHeader("content-type", ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });
  return router;
}
