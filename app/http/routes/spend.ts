import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { spendLogs } from "../../services/billing/spend.js";

// LiteLLM's names: startTime/endTime (dates or ISO timestamps).
const SpendQuery = z.object({
  api_key: z.string().min(1).optional(),
  request_id: z.string().min(1).optional(),
  startTime: z.coerce.date({ message: "must be a date such as 2026-11-24 or an ISO timestamp" }).optional(),
  endTime: z.coerce.date({ message: "must be a date such as 2026-11-24 or an ISO timestamp" }).optional(),
});

export function spendRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/spend/logs", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await spendLogs(ctx.database.db, validate(SpendQuery, req.query, "query")));
  });
  return router;
}
