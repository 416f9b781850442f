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

  // Answered from the health cycle's last look (no connection per call: a
  // probe storm must not reach the databases). A reader that is degraded or
  // lagging never makes the pod unready — reads are on the writer. Only an
  // unreachable writer (or a draining process) does.
  router.get("/health/readiness", (_req, res) => {
    const { health } = ctx.database;
    const db: Record<string, unknown> = { writer: health.writerStatus, reader: health.reader.status };
    const measured = health.reader.status === "connected" || health.reader.status === "lagging";
    if (measured && health.readerLagMs !== undefined) db.reader_lag_ms = health.readerLagMs;
    if (ctx.lifecycle.draining) {
      res.status(503).json({ status: "draining", db });
    } else if (health.writerStatus !== "connected") {
      res.status(503).json({ status: "unhealthy", db });
    } else {
      res.json({ status: "healthy", db });
    }
  });

  return router;
}
