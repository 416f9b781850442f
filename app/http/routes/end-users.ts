import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import {
  deleteEndUsers,
  endUserInfo,
  listEndUsers,
  newEndUser,
  setBlocked,
  updateEndUser,
  type EndUserRules,
} from "../../services/admin/end-users.js";
import { EndUserBody, EndUserIds } from "./budget-fields.js";

/** LiteLLM's end-user routes, under both of its names (/end_user/* and /customer/*), the admin's. */
export function endUserRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;
  const rules: EndUserRules = { hasModel: (model) => ctx.router.has(model), regions: () => ctx.router.regions() };
  const both = (path: string) => [`/end_user/${path}`, `/customer/${path}`];

  router.post(both("new"), async (req, res) => {
    await adminOnly(ctx, req);
    const { user_id, ...fields } = validate(EndUserBody, req.body);
    res.json(await newEndUser(db, user_id, fields, rules));
  });
  router.get(both("info"), async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await endUserInfo(db, validate(z.object({ end_user_id: z.string().min(1) }), req.query, "query").end_user_id));
  });
  router.post(both("update"), async (req, res) => {
    await adminOnly(ctx, req);
    const { user_id, ...fields } = validate(EndUserBody, req.body);
    res.json(await updateEndUser(db, user_id, fields, rules));
  });
  router.get(both("list"), async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await listEndUsers(db));
  });
  router.post(both("delete"), async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await deleteEndUsers(db, validate(EndUserIds, req.body).user_ids));
  });
  router.post(both("block"), async (req, res) => {
    await adminOnly(ctx, req);
    res.json({ blocked_users: await setBlocked(db, validate(EndUserIds, req.body).user_ids, true) });
  });
  router.post(both("unblock"), async (req, res) => {
    await adminOnly(ctx, req);
    res.json({ unblocked_users: await setBlocked(db, validate(EndUserIds, req.body).user_ids, false) });
  });
  return router;
}
