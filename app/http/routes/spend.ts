import { Router } from "express";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { spendLogs } from "../../services/billing/spend-log-query.js";
import { ApiError } from "../../services/errors.js";
import { SpendLogsQuery } from "./spend-fields.js";

export function spendRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/spend/logs", async (req, res) => {
    await adminOnly(ctx, req);
    const { startTime, start_date, endTime, end_date, ...query } = validate(SpendLogsQuery, req.query, "query");
    const filter = { ...query, startTime: startTime ?? start_date, endTime: endTime ?? end_date };
    if (filter.startTime && filter.endTime && filter.startTime >= filter.endTime)
      throw ApiError.badRequest("startTime: must be before endTime", "startTime");
    res.json(await spendLogs(ctx.database.db, filter));
  });
  return router;
}
