import type { RoutedClient } from "../../db/routing-client.js";
import { ApiError } from "../errors.js";
import type { Caller } from "./auth.js";
import { isAdmin } from "./key-ownership.js";

/**
 * LiteLLM's organization roles on the management API: the proxy admin manages every organization;
 * an `org_admin` manages its own organization's members and makes teams in it; any member may
 * read it. A role is read on the replica past this pod's writes to the organization, so a member
 * the admin just removed here is refused at once (elsewhere within the replica's lag bound, as a
 * revoked key is).
 */
export type OrganizationRole = "org_admin" | "internal_user" | "internal_user_viewer";

export const MANAGE: readonly OrganizationRole[] = ["org_admin"];
export const READ: readonly OrganizationRole[] = ["org_admin", "internal_user", "internal_user_viewer"];

/** The caller's user's role in each organization it belongs to (none for a key without a user). */
export async function organizationRoles(db: RoutedClient, caller: Caller): Promise<Map<string, string>> {
  const userId = caller.kind === "key" ? caller.key.user_id : null;
  if (!userId) return new Map();
  db.$consistency.dependOn([`user:${userId}`]);
  const rows = await db.organizationMembership.findMany({ where: { user_id: userId }, select: { organization_id: true, user_role: true } });
  return new Map(rows.map((r) => [r.organization_id, r.user_role]));
}

/**
 * Refuses (403 naming organization_id) a caller that is neither the proxy admin nor one of `roles`
 * in every organization named. Whether an organization the caller is not in exists is not the
 * caller's business: the answer is the same 403.
 */
export async function requireOrganizationRole(
  db: RoutedClient,
  caller: Caller,
  organizationIds: readonly string[],
  roles: readonly OrganizationRole[],
): Promise<void> {
  if (isAdmin(caller)) return;
  db.$consistency.dependOn(organizationIds.map((id) => `organization:${id}`));
  const held = await organizationRoles(db, caller);
  const refused = organizationIds.find((id) => !roles.includes(held.get(id) as OrganizationRole));
  if (refused !== undefined)
    throw ApiError.forbidden(
      `organization_id: only the proxy admin or ${roles.length === 1 ? `an ${roles[0]}` : "a member"} of organization ${refused} may do this`,
      "organization_id",
    );
}
