import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf, adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { addMembers } from "../../services/admin/teams.js";
import { isAdmin } from "../../services/access/key-ownership.js";
import { deleteUsers, listUsers, newUser, updateUser, userInfo } from "../../services/admin/users.js";
import { ApiError } from "../../services/errors.js";
import { pageOf } from "../../services/admin/paging.js";
import { NewUser, PageNumber, PageSize, UserFields } from "./fields.js";

const UpdateUser = z.object({ ...UserFields, user_id: z.string().min(1).max(255), spend: z.number().nonnegative().optional() });
const ListUsers = z.object({
  page: PageNumber,
  page_size: PageSize(25),
  user_email: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
});

/** LiteLLM's user routes: the master key's, except /user/info for a key's own user. */
export function userRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  router.post("/user/new", async (req, res) => {
    await adminOnly(ctx, req);
    const input = validate(NewUser, req.body);
    const team_id = input.team_id;
    const user = await newUser(db, input);
    // LiteLLM's /user/new with team_id makes the new user a member of that team.
    if (team_id) await addMembers(db, team_id, [{ role: "user", user_id: user.user_id }]);
    res.json(team_id ? { ...user, teams: [...new Set([...user.teams, team_id])] } : user);
  });

  router.get("/user/info", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { user_id } = validate(z.object({ user_id: z.string().min(1).optional() }), req.query, "query");
    if (caller.kind === "key" && !isAdmin(caller)) {
      const own = caller.key.user_id;
      if (!own || (user_id && user_id !== own))
        throw ApiError.forbidden("You are not allowed to access this user's info: a key may only look up its own user", "user_id");
      res.json(await userInfo(db, own));
      return;
    }
    if (!user_id && caller.kind === "key" && caller.key.user_id) {
      res.json(await userInfo(db, caller.key.user_id));
      return;
    }
    if (!user_id) throw ApiError.badRequest("user_id: query parameter is required with the master key", "user_id");
    res.json(await userInfo(db, user_id));
  });

  router.post("/user/update", async (req, res) => {
    await adminOnly(ctx, req);
    const { user_id, ...fields } = validate(UpdateUser, req.body);
    res.json(await updateUser(db, user_id, fields));
  });

  router.get("/user/list", async (req, res) => {
    await adminOnly(ctx, req);
    const { page, page_size, ...filter } = validate(ListUsers, req.query, "query");
    res.json(await listUsers(db, filter, pageOf(page, page_size)));
  });

  router.post("/user/delete", async (req, res) => {
    await adminOnly(ctx, req);
    const { user_ids } = validate(z.object({ user_ids: z.array(z.string().min(1)).min(1) }), req.body);
    res.json(await deleteUsers(db, user_ids));
  });

  return router;
}
