import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { masterOnly } from "../auth.js";
import { validate } from "../validate.js";
import { newTeam, teamInfo } from "../../services/teams.js";

const NewTeam = z.object({
  team_alias: z.string().min(1).max(255),
  max_budget: z.number().nonnegative().nullable().optional(),
  models: z.array(z.string().min(1)).optional(),
});

export function teamRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post("/team/new", async (req, res) => {
    await masterOnly(ctx, req, res);
    res.json(await newTeam(ctx.database.db, validate(NewTeam, req.body)));
  });

  router.get("/team/info", async (req, res) => {
    await masterOnly(ctx, req, res);
    const { team_id } = validate(z.object({ team_id: z.string().min(1, "query parameter is required") }), req.query, "query");
    res.json(await teamInfo(ctx.database.db, team_id));
  });

  return router;
}
