import { Router } from "express";
import type { AppContext } from "../context.js";

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get("/health/liveliness", (_req, res) => {
    res.json({ status: "healthy" });
  });
  // LiteLLM spells it both ways.
  router.get("/health/liveness", (_req, res) => {
    res.json({ status: "healthy" });
  });

  // A degraded reader never makes the pod unready: reads are on the writer.
  // Only an unreachable writer (or a draining process) does.
  router.get("/health/readiness", async (_req, res) => {
    const writer = await ctx.database.checkWriter(2000);
    const db = { writer, reader: ctx.database.reader.status };
    if (ctx.lifecycle.draining) {
      res.status(503).json({ status: "draining", db });
    } else if (writer !== "connected") {
      res.status(503).json({ status: "unhealthy", db });
    } else {
      res.json({ status: "healthy", db });
    }
  });

  return router;
}
