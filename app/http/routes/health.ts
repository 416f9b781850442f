import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Router } from "express";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { appRoot } from "../../paths.js";

/** tandem's version, where LiteLLM's readiness gives its own (clients and dashboards read the field). */
const VERSION = (JSON.parse(readFileSync(join(appRoot, "package.json"), "utf8")) as { version: string }).version;

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
  // lagging never makes the pod unready — reads are on the writer. Nor does a
  // read-only writer (a failover under way): reads and completions still
  // work, spend waits in the queue, and taking every pod out of the Service
  // at once would turn a 30-second failover into a full outage. Only an
  // unreachable writer (or a draining process) does.
  const readiness = () => {
    const { health } = ctx.database;
    const readers = ctx.database.reader;
    const db: Record<string, unknown> = { writer: health.writerStatus, reader: readers.status };
    const measured = readers.status === "connected" || readers.status === "lagging";
    if (measured && health.readerLagMs !== undefined) db.reader_lag_ms = health.readerLagMs;
    // With several instances (listed, or found behind one address), each by
    // host:port as the server sees it (never by URL: no credential in a
    // probe's answer), with the address it is reached through, its probe
    // round trip and whether it counts as local; one instance
    // keeps the single-reader shape.
    if (readers.members.length > 1) db.readers = Object.fromEntries(readers.members.map((m) => [m.name, readers.view(m)]));
    // Redis never makes the pod unready: without it each pod enforces its own limits.
    const redis = ctx.redis?.status ?? "disabled";
    // LiteLLM's readiness fields beside tandem's own (its `db` is tandem's object here, per the contract).
    const litellm = {
      litellm_version: VERSION,
      cache: ctx.responseCache ? (ctx.redis ? "redis" : "local") : null,
      success_callbacks: [],
    };
    if (ctx.lifecycle.draining) return { code: 503, body: { status: "draining", db, redis, ...litellm } };
    if (health.writerStatus === "disconnected") return { code: 503, body: { status: "unhealthy", db, redis, ...litellm } };
    return { code: 200, body: { status: "healthy", db, redis, ...litellm } };
  };
  router.get("/health/readiness", (_req, res) => {
    const { code, body } = readiness();
    res.status(code).json(body);
  });
  // LiteLLM's authenticated readiness: the same answer, for a caller with a key.
  router.get("/health/readiness/details", async (req, res) => {
    await callerOf(ctx, req.headers);
    const { code, body } = readiness();
    res.status(code).json(body);
  });

  return router;
}
