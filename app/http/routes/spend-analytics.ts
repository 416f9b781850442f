import { Router, type Request } from "express";
import type { AppContext } from "../context.js";
import { adminOnly, callerOf } from "../auth.js";
import { validate } from "../validate.js";
import { isAdmin } from "../../services/access/key-ownership.js";
import { ApiError } from "../../services/errors.js";
import { dailyActivity, spendReport, topKeys, topModels, topTeams } from "../../services/billing/spend-analytics.js";
import { DailyActivityQuery, SpendReportQuery, TeamDailyActivityQuery, TopSpendQuery } from "./analytics-fields.js";

/**
 * LiteLLM's usage and spend report endpoints, from the daily aggregates on the replica. The admin
 * reads everything; a user's key reads its own user's activity (or, without a user, its own), and
 * its own team's.
 */
export function spendAnalyticsRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  router.get("/user/daily/activity", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { page, page_size, ...scope } = validate(DailyActivityQuery, req.query, "query");
    if (!isAdmin(caller) && caller.kind === "key") {
      const own = caller.key.user_id;
      if (scope.user_id !== undefined && scope.user_id !== own)
        throw ApiError.forbidden("user_id: a user's key reads only its own user's activity", "user_id");
      if (own) scope.user_id = own;
      else scope.api_key = caller.key.token;
    }
    res.json(await dailyActivity(db, scope, { page, page_size }));
  });

  router.get("/team/daily/activity", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { page, page_size, team_ids, ...scope } = validate(TeamDailyActivityQuery, req.query, "query");
    let teams: string[] | undefined = team_ids.length > 0 ? team_ids : undefined;
    if (!isAdmin(caller) && caller.kind === "key") {
      const own = caller.key.team_id;
      if (!own) throw ApiError.forbidden("team_ids: this key belongs to no team", "team_ids");
      if (teams && teams.some((id) => id !== own))
        throw ApiError.forbidden("team_ids: a team's key reads only its own team's activity", "team_ids");
      teams = [own];
    }
    // No team named: every team's activity (keys without a team are not a team's).
    res.json(await dailyActivity(db, { ...scope, team_ids: teams ?? "any" }, { page, page_size }));
  });

  const adminRead = (path: string, answer: (req: Request) => Promise<unknown>) =>
    router.get(path, async (req, res) => {
      await adminOnly(ctx, req);
      res.json(await answer(req));
    });
  adminRead("/global/spend/report", (req) => spendReport(db, validate(SpendReportQuery, req.query, "query")));
  adminRead("/global/spend/keys", (req) => topKeys(db, validate(TopSpendQuery, req.query, "query")));
  adminRead("/global/spend/models", (req) => topModels(db, validate(TopSpendQuery, req.query, "query")));
  adminRead("/global/spend/teams", (req) => topTeams(db, validate(TopSpendQuery, req.query, "query")));
  return router;
}
