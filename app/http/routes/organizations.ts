import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import {
  addOrganizationMembers,
  deleteOrganizationMember,
  deleteOrganizations,
  listOrganizations,
  newOrganization,
  organizationInfo,
  organizationsInfo,
  updateOrganization,
  updateOrganizationMember,
} from "../../services/admin/organizations.js";
import {
  NewOrganization,
  OrganizationIds,
  OrganizationInfoBody,
  OrganizationListQuery,
  OrganizationMemberAdd,
  OrganizationMemberDelete,
  OrganizationMemberUpdate,
  UpdateOrganization,
} from "./organization-fields.js";

/**
 * LiteLLM's organization routes, with its methods (update and member_update are PATCH, the deletes
 * DELETE with a body); POST is taken too where LiteLLM's UI or older clients send it. The admin's.
 */
export function organizationRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  router.post("/organization/new", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await newOrganization(db, validate(NewOrganization, req.body)));
  });
  router.get("/organization/info", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await organizationInfo(db, validate(z.object({ organization_id: z.string().min(1) }), req.query, "query").organization_id));
  });
  router.post("/organization/info", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await organizationsInfo(db, validate(OrganizationInfoBody, req.body).organizations));
  });
  router.get("/organization/list", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await listOrganizations(db, validate(OrganizationListQuery, req.query, "query")));
  });
  router.route("/organization/update").patch(update).post(update);
  router.route("/organization/delete").delete(remove).post(remove);
  router.post("/organization/member_add", async (req, res) => {
    await adminOnly(ctx, req);
    const { organization_id, member } = validate(OrganizationMemberAdd, req.body);
    res.json(await addOrganizationMembers(db, organization_id, member));
  });
  router.route("/organization/member_update").patch(memberUpdate).post(memberUpdate);
  router.route("/organization/member_delete").delete(memberDelete).post(memberDelete);
  return router;

  async function update(req: Request, res: Response) {
    await adminOnly(ctx, req);
    res.json(await updateOrganization(db, validate(UpdateOrganization, req.body)));
  }
  async function remove(req: Request, res: Response) {
    await adminOnly(ctx, req);
    res.json(await deleteOrganizations(db, validate(OrganizationIds, req.body).organization_ids));
  }
  async function memberUpdate(req: Request, res: Response) {
    await adminOnly(ctx, req);
    res.json(await updateOrganizationMember(db, validate(OrganizationMemberUpdate, req.body)));
  }
  async function memberDelete(req: Request, res: Response) {
    await adminOnly(ctx, req);
    res.json(await deleteOrganizationMember(db, validate(OrganizationMemberDelete, req.body)));
  }
}
