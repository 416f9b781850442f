import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { spendLogs } from "../../services/billing/spend-log-query.js";
import { ApiError } from "../../services/errors.js";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const when = z.coerce.date({ message: "must be a date such as 2026-11-24 or an ISO timestamp" });
/** An end given as a date means the whole of that day. */
const until = z.string().transform((text, ctx) => {
  const date = new Date(DATE_ONLY.test(text) ? Date.parse(`${text}T00:00:00Z`) + 86_400_000 : text);
  if (Number.isNaN(date.getTime())) ctx.addIssue({ code: "custom", message: "must be a date such as 2026-11-24 or an ISO timestamp" });
  return date;
});

// LiteLLM's names: startTime/endTime, or start_date/end_date; page and page_size as its paged spend logs.
const SpendQuery = z.object({
  api_key: z.string().min(1).optional(),
  request_id: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  end_user: z.string().min(1).optional(),
  startTime: when.optional(),
  start_date: when.optional(),
  endTime: until.optional(),
  end_date: until.optional(),
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(1000).default(100),
});

export function spendRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/spend/logs", async (req, res) => {
    await adminOnly(ctx, req);
    const { startTime, start_date, endTime, end_date, ...query } = validate(SpendQuery, req.query, "query");
    const filter = { ...query, startTime: startTime ?? start_date, endTime: endTime ?? end_date };
    if (filter.startTime && filter.endTime && filter.startTime >= filter.endTime)
      throw ApiError.badRequest("startTime: must be before endTime", "startTime");
    res.json(await spendLogs(ctx.database.db, filter));
  });
  return router;
}
