import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { masterOnly } from "../auth.js";
import { validate } from "../validate.js";
import { addMembers, deleteTeams, listTeams, newTeam, removeMember, teamInfo, updateTeam } from "../../services/admin/teams.js";
import { LimitFields, Member } from "./fields.js";

const TeamFields = {
  ...LimitFields,
  team_alias: z.string().min(1).max(255).nullable().optional(),
  members_with_roles: z.array(Member).optional(),
  blocked: z.boolean().optional(),
};
const NewTeam = z.object({ ...TeamFields, team_id: z.string().min(1).max(255).optional() });
const UpdateTeam = z.object({ ...TeamFields, team_id: z.string().min(1) });
const TeamId = z.object({ team_id: z.string().min(1) });
const MemberAdd = z.object({ team_id: z.string().min(1), member: z.union([Member, z.array(Member).min(1)]) });
const MemberDelete = z
  .object({ team_id: z.string().min(1), user_id: z.string().min(1).optional(), user_email: z.string().min(1).optional() })
  .refine((b) => b.user_id || b.user_email, { message: "give user_id or user_email", path: ["user_id"] });

/** LiteLLM's team routes, all the master key's. */
export function teamRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  router.post("/team/new", async (req, res) => {
    await masterOnly(ctx, req);
    res.json(await newTeam(db, validate(NewTeam, req.body)));
  });

  router.get("/team/info", async (req, res) => {
    await masterOnly(ctx, req);
    const { team_id } = validate(z.object({ team_id: z.string().min(1, "query parameter is required") }), req.query, "query");
    res.json(await teamInfo(db, team_id));
  });

  router.post("/team/update", async (req, res) => {
    await masterOnly(ctx, req);
    const { team_id, ...fields } = validate(UpdateTeam, req.body);
    res.json(await updateTeam(db, team_id, fields));
  });

  for (const [path, blocked] of [
    ["/team/block", true],
    ["/team/unblock", false],
  ] as const) {
    router.post(path, async (req, res) => {
      await masterOnly(ctx, req);
      res.json(await updateTeam(db, validate(TeamId, req.body).team_id, { blocked }));
    });
  }

  router.get("/team/list", async (req, res) => {
    await masterOnly(ctx, req);
    res.json(await listTeams(db, validate(z.object({ user_id: z.string().min(1).optional() }), req.query, "query")));
  });

  router.post("/team/delete", async (req, res) => {
    await masterOnly(ctx, req);
    const { team_ids } = validate(z.object({ team_ids: z.array(z.string().min(1)).min(1) }), req.body);
    res.json(await deleteTeams(db, team_ids));
  });

  router.post("/team/member_add", async (req, res) => {
    await masterOnly(ctx, req);
    const { team_id, member } = validate(MemberAdd, req.body);
    res.json(await addMembers(db, team_id, Array.isArray(member) ? member : [member]));
  });

  router.post("/team/member_delete", async (req, res) => {
    await masterOnly(ctx, req);
    const { team_id, ...member } = validate(MemberDelete, req.body);
    res.json(await removeMember(db, team_id, member));
  });

  return router;
}
