import { Router } from "express";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";

/** A counter's values summed per one of its labels. */
async function byLabel(counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, label: string) {
  const sums: Record<string, number> = {};
  for (const { value, labels } of (await counter.get()).values) {
    const name = String(labels[label] ?? "unknown");
    sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}

/**
 * The admin UI's Database page: this pod's view of the writer and each reader instance (state, lag,
 * the address it is reached through, how it was found, reads it answered), the
 * reads the writer answered instead and why, and the spend waiting to be written. From the health
 * cycle's last look and this pod's counters: no query per call.
 */
export function uiDatabaseRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/ui/api/database", async (req, res) => {
    await adminOnly(ctx, req);
    const { health, reader } = ctx.database;
    const reads = await byLabel(ctx.metrics.readerReads, "reader");
    res.setHeader("cache-control", "no-store");
    res.json({
      writer: { state: health.writerStatus },
      reader: { state: reader.status, lag_ms: health.readerLagMs ?? null },
      readers: reader.members.map((member) => ({
        name: member.name,
        lag_ms: null,
        rtt_ms: null,
        ...reader.view(member),
        reads: reads[member.name] ?? 0,
      })),
      read_fallbacks: await byLabel(ctx.metrics.readFallbacks, "reason"),
      spend_queue: { length: ctx.spend.length, oldest_age_ms: ctx.spend.oldestAgeMs() },
      redis: ctx.redis?.status ?? "disabled",
    });
  });
  return router;
}
