import { randomUUID } from "node:crypto";
import type { RoutedClient, WriterTransaction as Tx } from "../../db/routing-client.js";
import type { Budget, Organization, OrganizationMembership, Prisma, Team, User } from "../../generated/prisma/client.js";
import type { NewOrganizationInput, OrganizationMemberInput, UpdateOrganizationInput } from "../../http/routes/organization-fields.js";
import { ApiError } from "../errors.js";
import { applyBudget, budgetCreateData, budgetView, requireBudget } from "./budgets.js";
import { deletedScopes, deleteTeamsIn, teamView } from "./teams.js";
import { PROXY_ADMIN_USER } from "./proxy-admin.js";
import { userView } from "./users.js";

type OrganizationRow = Organization & { budget: Budget | null };
type Details = { members: OrganizationMembership[]; teams: Team[]; users: Map<string, User> };

const scope = (organizationId: string) => `organization:${organizationId}`;

const notFound = (organizationId: string, param = "organization_id") =>
  ApiError.notFound(`${param}: Organization not found for organization_id=${organizationId}`, param);

/** A membership as LiteLLM's OrganizationMembershipTable shows it (the user's email beside it, as /organization/info does). */
function membershipView(member: OrganizationMembership, user?: User) {
  return {
    user_id: member.user_id,
    organization_id: member.organization_id,
    user_role: member.user_role,
    spend: member.spend,
    budget_id: null,
    created_at: member.created_at.toISOString(),
    updated_at: member.updated_at.toISOString(),
    user_email: user?.user_email ?? null,
  };
}

/** An organization as LiteLLM's OrganizationTable shows it, with its budget, and its members and teams where read. */
function organizationView(org: OrganizationRow, details?: Details) {
  return {
    organization_id: org.organization_id,
    organization_alias: org.organization_alias,
    budget_id: org.budget_id,
    metadata: org.metadata,
    models: org.models,
    spend: org.spend,
    model_spend: {},
    object_permission_id: null,
    created_at: org.created_at.toISOString(),
    created_by: org.created_by,
    updated_at: org.updated_at.toISOString(),
    updated_by: org.updated_by,
    litellm_budget_table: org.budget ? budgetView(org.budget) : null,
    ...(details
      ? {
          members: details.members.map((m) => membershipView(m, details.users.get(m.user_id))),
          teams: details.teams.map(teamView),
        }
      : {}),
  };
}

/** Members, teams and the members' users of these organizations, in three reads. */
async function detailsOf(db: Pick<RoutedClient, "organizationMembership" | "team" | "user">, ids: string[]) {
  const [members, teams] = await Promise.all([
    db.organizationMembership.findMany({ where: { organization_id: { in: ids } }, orderBy: { created_at: "asc" } }),
    db.team.findMany({ where: { organization_id: { in: ids } }, orderBy: { created_at: "asc" } }),
  ]);
  const users = await db.user.findMany({ where: { user_id: { in: [...new Set(members.map((m) => m.user_id))] } } });
  const byUser = new Map(users.map((u) => [u.user_id, u]));
  return (id: string): Details => ({
    members: members.filter((m) => m.organization_id === id),
    teams: teams.filter((t) => t.organization_id === id),
    users: byUser,
  });
}

async function withDetails(db: Pick<RoutedClient, "organizationMembership" | "team" | "user">, orgs: OrganizationRow[]) {
  const of = await detailsOf(
    db,
    orgs.map((o) => o.organization_id),
  );
  return orgs.map((org) => organizationView(org, of(org.organization_id)));
}

/**
 * LiteLLM's /organization/new: the organization with a shared budget (`budget_id`), or one of its
 * own made from the limits in the body — always a budget, as LiteLLM lists `litellm_budget_table`.
 */
export async function newOrganization(db: RoutedClient, input: NewOrganizationInput) {
  try {
    const org = await db.$transaction(async (tx) => {
      if (input.budget_id) await requireBudget(tx, input.budget_id);
      const budgetId = input.budget_id ?? (await tx.budget.create({ data: budgetCreateData(input) })).budget_id;
      return tx.organization.create({
        data: {
          ...(input.organization_id ? { organization_id: input.organization_id } : {}),
          organization_alias: input.organization_alias,
          models: input.models ?? [],
          metadata: (input.metadata ?? {}) as Prisma.InputJsonValue,
          budget_id: budgetId,
          created_by: PROXY_ADMIN_USER,
          updated_by: PROXY_ADMIN_USER,
        },
        include: { budget: true },
      });
    });
    await db.$consistency.wrote([scope(org.organization_id)]);
    return organizationView(org);
  } catch (error) {
    if ((error as { code?: string }).code === "P2002")
      throw ApiError.badRequest(
        `organization_id: an organization with id ${JSON.stringify(input.organization_id)} already exists`,
        "organization_id",
      );
    throw error;
  }
}

/** LiteLLM's GET /organization/info: the organization, its budget, members and teams. */
export async function organizationInfo(db: RoutedClient, organizationId: string) {
  db.$consistency.dependOn([scope(organizationId)]);
  const org = await db.organization.findUnique({ where: { organization_id: organizationId }, include: { budget: true } });
  if (!org) throw notFound(organizationId);
  return (await withDetails(db, [org]))[0]!;
}

/** LiteLLM's POST /organization/info: the ones found, with their budgets. */
export async function organizationsInfo(db: RoutedClient, ids: string[]) {
  db.$consistency.dependOn(ids.map(scope));
  const orgs = await db.organization.findMany({ where: { organization_id: { in: ids } }, include: { budget: true } });
  return orgs.map((org) => organizationView(org));
}

/** LiteLLM's /organization/list, oldest first: by id, or aliases containing a text (any case). */
/** LiteLLM's /organization/list; `among` narrows it to the organizations a member may see. */
export async function listOrganizations(db: RoutedClient, filter: { org_id?: string; org_alias?: string }, among?: readonly string[]) {
  // The caller's own writes (and those about the one asked for) first: an organization it just made is in its list.
  db.$consistency.dependOn(filter.org_id ? [scope(filter.org_id)] : []);
  const orgs = await db.organization.findMany({
    where: {
      ...(filter.org_id ? { organization_id: filter.org_id } : {}),
      ...(among ? { organization_id: { in: filter.org_id ? among.filter((id) => id === filter.org_id) : [...among] } } : {}),
      ...(filter.org_alias ? { organization_alias: { contains: filter.org_alias, mode: "insensitive" } } : {}),
    },
    include: { budget: true },
    orderBy: [{ created_at: "asc" }, { organization_id: "asc" }],
    take: 1000,
  });
  return withDetails(db, orgs);
}

/**
 * LiteLLM's /organization/update: what is sent changes (metadata merged into what is there), limits
 * change the organization's budget in place (one is made if it has none).
 */
export async function updateOrganization(db: RoutedClient, input: UpdateOrganizationInput) {
  const id = input.organization_id;
  const org = await db.$transaction(async (tx) => {
    await lockedOrganization(tx, id);
    const current = (await tx.organization.findUnique({ where: { organization_id: id } }))!;
    const budgetId = await applyBudget(tx, current.budget_id, input);
    return tx.organization.update({
      where: { organization_id: id },
      data: {
        ...(input.organization_alias !== undefined ? { organization_alias: input.organization_alias } : {}),
        ...(input.models !== undefined ? { models: input.models } : {}),
        ...(input.spend !== undefined ? { spend: input.spend } : {}),
        ...(input.metadata !== undefined
          ? { metadata: { ...(current.metadata as Record<string, unknown>), ...(input.metadata ?? {}) } as Prisma.InputJsonValue }
          : {}),
        budget_id: budgetId,
        updated_by: PROXY_ADMIN_USER,
      },
      include: { budget: true },
    });
  });
  await db.$consistency.wrote([scope(id), ...(org.budget_id ? [`budget:${org.budget_id}`] : [])]);
  return (await withDetails(db.$primary(), [org]))[0]!;
}

/**
 * LiteLLM's /organization/delete: each organization with its teams and their keys (as LiteLLM
 * does); its members keep their user rows. All of them, or — one unknown — none.
 */
export async function deleteOrganizations(db: RoutedClient, organizationIds: string[]) {
  const ids = [...new Set(organizationIds)];
  const { views, deleted } = await db.$transaction(async (tx) => {
    const orgs = await tx.organization.findMany({ where: { organization_id: { in: ids } }, include: { budget: true } });
    const found = new Set(orgs.map((o) => o.organization_id));
    const unknown = ids.filter((id) => !found.has(id));
    if (unknown.length > 0) throw notFound(unknown.join(", "), "organization_ids");
    const views = await withDetails(tx, orgs);
    const deleted = await deleteTeamsIn(tx, { organization_id: { in: ids } });
    await tx.organization.deleteMany({ where: { organization_id: { in: ids } } });
    return { views, deleted };
  });
  await db.$consistency.wrote([...ids.map(scope), ...deletedScopes(deleted)]);
  return views;
}

/** The organization's row, locked for this transaction, or LiteLLM's 404. */
async function lockedOrganization(tx: Tx, organizationId: string): Promise<void> {
  const [row] = await tx.$queryRaw<Array<{ one: number }>>`
    SELECT 1 AS one FROM "tandem_organization" WHERE "organization_id" = ${organizationId} FOR UPDATE`;
  if (!row) throw notFound(organizationId);
}

/** The one user with this email, or a 400 saying there are several (LiteLLM's words) or none. */
async function userByEmail(tx: Tx, email: string): Promise<User | undefined> {
  const users = await tx.user.findMany({ where: { user_email: email }, take: 2 });
  if (users.length > 1)
    throw ApiError.badRequest("user_email: Multiple users with this email found in db. Please use 'user_id' instead.", "user_email");
  return users[0];
}

/**
 * LiteLLM's /organization/member_add: each member by user id or email, made an internal_user when
 * there is no such user yet, with its role in the organization. A user already a member is a 400
 * and nothing is added.
 */
export async function addOrganizationMembers(db: RoutedClient, organizationId: string, members: OrganizationMemberInput[]) {
  const { users, memberships } = await db.$transaction(async (tx) => {
    await lockedOrganization(tx, organizationId);
    const users: User[] = [];
    const memberships: OrganizationMembership[] = [];
    for (const member of members) {
      const known = member.user_id
        ? await tx.user.findUnique({ where: { user_id: member.user_id } })
        : await userByEmail(tx, member.user_email!);
      const user =
        known ??
        (await tx.user.create({
          data: { user_id: member.user_id ?? randomUUID(), user_email: member.user_email ?? null, user_role: "internal_user" },
        }));
      const already = await tx.organizationMembership.findUnique({
        where: { organization_id_user_id: { organization_id: organizationId, user_id: user.user_id } },
      });
      if (already)
        throw ApiError.badRequest(`member: user ${user.user_id} is already a member of organization ${organizationId}`, "member");
      memberships.push(
        await tx.organizationMembership.create({
          data: { organization_id: organizationId, user_id: user.user_id, user_role: member.role },
        }),
      );
      users.push(user);
    }
    return { users, memberships };
  });
  await db.$consistency.wrote([scope(organizationId), ...users.map((u) => `user:${u.user_id}`)]);
  return {
    organization_id: organizationId,
    updated_users: users.map(userView),
    updated_organization_memberships: memberships.map((m, i) => membershipView(m, users[i])),
  };
}

/** The membership a body names (user id, else email), locked with its organization, or a 404 saying which is missing. */
async function membershipOf(tx: Tx, ref: { organization_id: string; user_id?: string | null; user_email?: string | null }) {
  await lockedOrganization(tx, ref.organization_id);
  const user = ref.user_id ? await tx.user.findUnique({ where: { user_id: ref.user_id } }) : await userByEmail(tx, ref.user_email!);
  const who = ref.user_id ? `user_id=${ref.user_id}` : `user_email=${ref.user_email}`;
  const param = ref.user_id ? "user_id" : "user_email";
  const member =
    user &&
    (await tx.organizationMembership.findUnique({
      where: { organization_id_user_id: { organization_id: ref.organization_id, user_id: user.user_id } },
    }));
  if (!user || !member) throw ApiError.notFound(`${param}: Member not found in organization for ${who}`, param);
  return { user, member };
}

/** LiteLLM's /organization/member_update: the member's role there. */
export async function updateOrganizationMember(
  db: RoutedClient,
  ref: { organization_id: string; user_id?: string | null; user_email?: string | null; role: OrganizationMemberInput["role"] },
) {
  const { user, member } = await db.$transaction(async (tx) => {
    const { user, member } = await membershipOf(tx, ref);
    const updated = await tx.organizationMembership.update({
      where: { organization_id_user_id: { organization_id: member.organization_id, user_id: member.user_id } },
      data: { user_role: ref.role },
    });
    return { user, member: updated };
  });
  await db.$consistency.wrote([scope(ref.organization_id), `user:${user.user_id}`]);
  return membershipView(member, user);
}

/** LiteLLM's /organization/member_delete: the membership goes; the user stays. */
export async function deleteOrganizationMember(
  db: RoutedClient,
  ref: { organization_id: string; user_id?: string | null; user_email?: string | null },
) {
  const { user, member } = await db.$transaction(async (tx) => {
    const found = await membershipOf(tx, ref);
    await tx.organizationMembership.delete({
      where: { organization_id_user_id: { organization_id: found.member.organization_id, user_id: found.member.user_id } },
    });
    return found;
  });
  await db.$consistency.wrote([scope(ref.organization_id), `user:${user.user_id}`]);
  return membershipView(member, user);
}
