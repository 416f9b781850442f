import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf, adminOnly } from "../auth.js";
import { ApiError } from "../../services/errors.js";
import { PROXY_ADMIN_USER } from "../../services/admin/proxy-admin.js";
import { isAdmin } from "../../services/access/key-ownership.js";
import { MANAGE, requireOrganizationRole } from "../../services/access/organization-roles.js";
import { validate } from "../validate.js";
import {
  addMembers,
  updateMember,
  deleteTeams,
  listTeams,
  newTeam,
  removeMember,
  teamInfo,
  updateTeam,
} from "../../services/admin/teams.js";
import { MemberAdd, NewTeam, TeamFields } from "./fields.js";

const UpdateTeam = z.object({ ...TeamFields, team_id: z.string().min(1) });
const TeamId = z.object({ team_id: z.string().min(1) });
const MemberUpdate = z
  .object({
    team_id: z.string().min(1),
    user_id: z.string().min(1).optional(),
    user_email: z.string().min(1).optional(),
    role: z.enum(["admin", "user"]).optional(),
    max_budget_in_team: z.number().nonnegative().nullable().optional(),
  })
  .refine((b) => b.user_id || b.user_email, { message: "give user_id or user_email", path: ["user_id"] });
const MemberDelete = z
  .object({ team_id: z.string().min(1), user_id: z.string().min(1).optional(), user_email: z.string().min(1).optional() })
  .refine((b) => b.user_id || b.user_email, { message: "give user_id or user_email", path: ["user_id"] });

/** LiteLLM's team routes, all the master key's. */
export function teamRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  // The admin makes any team; an org_admin makes teams in its own organization (organization_id required).
  router.post("/team/new", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    if (isAdmin(caller)) {
      // LiteLLM makes its admin (user id "default_user_id" for the master key) an admin member of every team it creates.
      res.json(await newTeam(db, validate(NewTeam, req.body), PROXY_ADMIN_USER));
      return;
    }
    // Without an organization it stays the admin's route (401, as for any admin route).
    const input = validate(NewTeam, req.body);
    if (caller.kind !== "key" || !caller.key.user_id || !input.organization_id) throw ApiError.adminOnly("POST /team/new");
    await requireOrganizationRole(db, caller, [input.organization_id], MANAGE);
    res.json(await newTeam(db, input, caller.key.user_id, true));
  });

  // The admin may read any team; a key its own team, or a team its user is a member of.
  router.get("/team/info", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { team_id } = validate(z.object({ team_id: z.string().min(1, "query parameter is required") }), req.query, "query");
    if (caller.kind === "master" || isAdmin(caller) || caller.key.team_id === team_id) {
      res.json(await teamInfo(db, team_id));
      return;
    }
    // Whether a team that is not the caller's exists is not the caller's business either: 403 both ways.
    const info = await teamInfo(db, team_id).catch(() => undefined);
    const userId = caller.key.user_id;
    if (!info || !userId || !info.team_info.members_with_roles.some((m) => m.user_id === userId))
      throw ApiError.forbidden("You are not allowed to access this team's info: the key is not in the team", "team_id");
    res.json(info);
  });

  router.post("/team/update", async (req, res) => {
    await adminOnly(ctx, req);
    const { team_id, ...fields } = validate(UpdateTeam, req.body);
    // LiteLLM's shape: the updated team under `data`.
    res.json({ team_id, data: await updateTeam(db, team_id, fields) });
  });

  for (const [path, blocked] of [
    ["/team/block", true],
    ["/team/unblock", false],
  ] as const) {
    router.post(path, async (req, res) => {
      await adminOnly(ctx, req);
      res.json(await updateTeam(db, validate(TeamId, req.body).team_id, { blocked }));
    });
  }

  router.get("/team/list", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(
      await listTeams(
        db,
        validate(z.object({ user_id: z.string().min(1).optional(), team_alias: z.string().min(1).optional() }), req.query, "query"),
      ),
    );
  });

  router.post("/team/delete", async (req, res) => {
    await adminOnly(ctx, req);
    const { team_ids } = validate(z.object({ team_ids: z.array(z.string().min(1)).min(1) }), req.body);
    res.json(await deleteTeams(db, team_ids));
  });

  router.post("/team/member_add", async (req, res) => {
    await adminOnly(ctx, req);
    const { team_id, member } = validate(MemberAdd, req.body);
    res.json(await addMembers(db, team_id, Array.isArray(member) ? member : [member]));
  });

  router.post("/team/member_update", async (req, res) => {
    await adminOnly(ctx, req);
    const { team_id, ...update } = validate(MemberUpdate, req.body);
    res.json(await updateMember(db, team_id, update));
  });

  router.post("/team/member_delete", async (req, res) => {
    await adminOnly(ctx, req);
    const { team_id, ...member } = validate(MemberDelete, req.body);
    res.json(await removeMember(db, team_id, member));
  });

  return router;
}
