import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { adminOnly, callerOf } from "../auth.js";
import { isAdmin } from "../../services/access/key-ownership.js";
import {
  MANAGE,
  READ,
  organizationRoles,
  requireOrganizationRole,
  type OrganizationRole,
} from "../../services/access/organization-roles.js";
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
 * DELETE with a body); POST is taken too where LiteLLM's UI or older clients send it. Making,
 * changing and deleting organizations is the admin's; an org_admin manages its own organization's
 * members, and a member reads its organizations.
 */
export function organizationRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;
  /** The body (or query) validated, then the caller's role in the organizations it names checked. */
  const authorized = async <T>(req: Request, parse: () => T, ids: (parsed: T) => string[], roles: readonly OrganizationRole[]) => {
    const caller = await callerOf(ctx, req.headers);
    const parsed = parse();
    await requireOrganizationRole(db, caller, ids(parsed), roles);
    return parsed;
  };

  router.post("/organization/new", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await newOrganization(db, validate(NewOrganization, req.body)));
  });
  router.get("/organization/info", async (req, res) => {
    const { organization_id } = await authorized(
      req,
      () => validate(z.object({ organization_id: z.string().min(1) }), req.query, "query"),
      (q) => [q.organization_id],
      READ,
    );
    res.json(await organizationInfo(db, organization_id));
  });
  router.post("/organization/info", async (req, res) => {
    const { organizations } = await authorized(
      req,
      () => validate(OrganizationInfoBody, req.body),
      (b) => b.organizations,
      READ,
    );
    res.json(await organizationsInfo(db, organizations));
  });
  // The admin lists every organization; anyone else the ones its user belongs to (LiteLLM's too).
  router.get("/organization/list", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const filter = validate(OrganizationListQuery, req.query, "query");
    res.json(await listOrganizations(db, filter, isAdmin(caller) ? undefined : [...(await organizationRoles(db, caller)).keys()]));
  });
  router.route("/organization/update").patch(update).post(update);
  router.route("/organization/delete").delete(remove).post(remove);
  router.post("/organization/member_add", async (req, res) => {
    const body = () => validate(OrganizationMemberAdd, req.body);
    const { organization_id, member } = await authorized(req, body, (b) => [b.organization_id], MANAGE);
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
    const body = await authorized(
      req,
      () => validate(OrganizationMemberUpdate, req.body),
      (b) => [b.organization_id],
      MANAGE,
    );
    res.json(await updateOrganizationMember(db, body));
  }
  async function memberDelete(req: Request, res: Response) {
    const body = await authorized(
      req,
      () => validate(OrganizationMemberDelete, req.body),
      (b) => [b.organization_id],
      MANAGE,
    );
    res.json(await deleteOrganizationMember(db, body));
  }
}
