import type { RoutedClient, WriterTransaction as Tx } from "../../db/routing-client.js";
import type { Prisma, Team, VirtualKey as VirtualKeyRow } from "../../generated/prisma/client.js";
import { ApiError } from "../errors.js";
import { requireTeamFits, withinOrganization } from "./organization-bounds.js";
import { IMPLICIT_USER_ROLE, keyScopes, keyView, limitData, limitView, type LimitFields } from "./keys.js";

export interface TeamMember {
  role: "admin" | "user";
  user_id?: string | null;
  user_email?: string | null;
}

export interface TeamFields extends LimitFields {
  team_alias?: string | null;
  blocked?: boolean;
  model_aliases?: Record<string, string>;
  members_with_roles?: TeamMember[];
  /** The organization it belongs to; null takes it out of one. */
  organization_id?: string | null;
}

export interface NewTeamInput extends TeamFields {
  team_id?: string;
}

export function teamView(team: Team) {
  return {
    team_id: team.team_id,
    team_alias: team.team_alias,
    ...limitView(team),
    // LiteLLM's Member: every field present, null where unknown.
    members_with_roles: (team.members_with_roles as unknown as TeamMember[]).map((m) => ({
      role: m.role,
      user_id: m.user_id ?? null,
      user_email: m.user_email ?? null,
    })),
    blocked: team.blocked,
    model_aliases: team.model_aliases,
    organization_id: team.organization_id,
  };
}

function teamData(input: TeamFields) {
  return {
    ...limitData(input),
    ...(input.team_alias !== undefined ? { team_alias: input.team_alias } : {}),
    ...(input.blocked !== undefined ? { blocked: input.blocked } : {}),
    ...(input.model_aliases !== undefined ? { model_aliases: input.model_aliases } : {}),
    ...(input.organization_id !== undefined ? { organization_id: input.organization_id } : {}),
    ...(input.members_with_roles !== undefined ? { members_with_roles: input.members_with_roles as unknown as Prisma.InputJsonValue } : {}),
  };
}

function idTaken(error: unknown): never {
  if ((error as { code?: string }).code === "P2002") throw ApiError.badRequest("team_id: a team with this id already exists", "team_id");
  throw error;
}

/** The team's row, locked for this transaction (member lists are read, changed and written back). */
async function lockedTeam(tx: Tx, teamId: string): Promise<Team> {
  await tx.$queryRaw`SELECT 1 FROM "tandem_team" WHERE "team_id" = ${teamId} FOR UPDATE`;
  const team = await tx.team.findUnique({ where: { team_id: teamId } });
  if (!team) throw ApiError.notFound(`team_id: team ${teamId} not found`, "team_id");
  return team;
}

/**
 * Members named only by email are matched to the user with that email, as
 * LiteLLM does, so the user's /user/info lists the team.
 */
async function withUserIds(tx: Tx, members: readonly TeamMember[]): Promise<TeamMember[]> {
  const emails = members.flatMap((m) => (!m.user_id && m.user_email ? [m.user_email] : []));
  if (emails.length === 0) return [...members];
  const users = await tx.user.findMany({ where: { user_email: { in: emails } }, select: { user_id: true, user_email: true } });
  const byEmail = new Map(users.map((u) => [u.user_email, u.user_id]));
  return members.map((m) => (!m.user_id && m.user_email && byEmail.has(m.user_email) ? { ...m, user_id: byEmail.get(m.user_email) } : m));
}

async function addTeamToUsers(tx: Tx, teamId: string, members: readonly TeamMember[]): Promise<string[]> {
  const userIds = members.flatMap((m) => (m.user_id ? [m.user_id] : []));
  if (userIds.length === 0) return [];
  await tx.user.createMany({ data: userIds.map((user_id) => ({ user_id, user_role: IMPLICIT_USER_ROLE })), skipDuplicates: true });
  await tx.$executeRaw`UPDATE "tandem_user" SET "teams" = array_append("teams", ${teamId}) WHERE "user_id" = ANY(${userIds}) AND NOT (${teamId} = ANY("teams"))`;
  return userIds;
}

/**
 * LiteLLM's /team/new: the caller (`creator`, LiteLLM's user id for it) joins as an admin unless listed
 * already. `byOrgAdmin`: made by its organization's org_admin, so bounded by the organization wherever
 * it sets nothing.
 */
export async function newTeam(db: RoutedClient, request: NewTeamInput, creator?: string, byOrgAdmin = false) {
  let input = request;
  try {
    const { team, members } = await db.$transaction(async (tx) => {
      if (input.organization_id) {
        const org = await requireTeamFits(tx, input.organization_id, input);
        if (byOrgAdmin) input = withinOrganization(input, org);
      }
      const given = await withUserIds(tx, input.members_with_roles ?? []);
      const members: TeamMember[] =
        creator && !given.some((m) => m.user_id === creator) ? [...given, { role: "admin", user_id: creator }] : given;
      const created = await tx.team.create({
        data: { ...(input.team_id ? { team_id: input.team_id } : {}), ...teamData({ ...input, members_with_roles: members }) },
      });
      await addTeamToUsers(tx, created.team_id, members);
      return { team: created, members };
    });
    await db.$consistency.wrote([`team:${team.team_id}`, ...members.flatMap((m) => (m.user_id ? [`user:${m.user_id}`] : []))]);
    return teamView(team);
  } catch (error) {
    return idTaken(error);
  }
}

export async function teamInfo(db: RoutedClient, teamId: string) {
  db.$consistency.dependOn([`team:${teamId}`]);
  const team = await db.team.findUnique({ where: { team_id: teamId }, include: { keys: { orderBy: { created_at: "asc" } } } });
  if (!team) throw ApiError.notFound(`team_id: team ${teamId} not found`, "team_id");
  return { team_id: team.team_id, team_info: teamView(team), keys: team.keys.map(keyView) };
}

export async function updateTeam(db: RoutedClient, teamId: string, input: TeamFields) {
  const team = await db.$transaction(async (tx) => {
    const current = await lockedTeam(tx, teamId);
    // The team as it will be, within the organization it will be in.
    const organizationId = input.organization_id !== undefined ? input.organization_id : current.organization_id;
    if (organizationId) await requireTeamFits(tx, organizationId, { ...current, ...limitData(input) });
    const updated = await tx.team.update({ where: { team_id: teamId }, data: teamData(input) });
    if (input.members_with_roles) await addTeamToUsers(tx, teamId, input.members_with_roles);
    return updated;
  });
  await db.$consistency.wrote([`team:${teamId}`]);
  return teamView(team);
}

/** LiteLLM's /team/list answers a plain array, oldest first; optionally the teams a user is in, or those with an alias (several may share one). */
export async function listTeams(db: RoutedClient, filter: { user_id?: string; team_alias?: string }) {
  db.$consistency.dependOn(filter.user_id ? [`user:${filter.user_id}`] : []);
  const teams = await db.team.findMany({
    where: {
      ...(filter.user_id ? { members_with_roles: { array_contains: [{ user_id: filter.user_id }] } } : {}),
      ...(filter.team_alias ? { team_alias: filter.team_alias } : {}),
    },
    orderBy: [{ created_at: "asc" }, { team_id: "asc" }],
    take: 1000,
  });
  return teams.map(teamView);
}

/** Deletes the teams and, as LiteLLM does, their keys; members keep their user rows. */
export async function deleteTeams(db: RoutedClient, teamIds: string[]) {
  const { teams, keys } = await db.$transaction((tx) => deleteTeamsIn(tx, { team_id: { in: teamIds } }));
  await db.$consistency.wrote(deletedScopes({ teams, keys }));
  if (teams.length === 0) throw ApiError.notFound("team_ids: none of the teams exist", "team_ids");
  return { deleted_teams: teams, deleted_keys: keys.length };
}

/** Deletes the teams a filter finds, with their keys, inside the caller's transaction; returns what went. */
export async function deleteTeamsIn(tx: Tx, where: Prisma.TeamWhereInput) {
  const ids = (await tx.team.findMany({ where, select: { team_id: true } })).map((t) => t.team_id);
  const keys = await tx.virtualKey.findMany({ where: { team_id: { in: ids } }, select: { token: true, team_id: true, user_id: true } });
  await tx.virtualKey.deleteMany({ where: { team_id: { in: ids } } });
  await tx.team.deleteMany({ where: { team_id: { in: ids } } });
  for (const id of ids) await tx.$executeRaw`UPDATE "tandem_user" SET "teams" = array_remove("teams", ${id}) WHERE ${id} = ANY("teams")`;
  return { teams: ids, keys };
}

/** The consistency scopes of deleted teams and keys (caches on every pod drop them). */
export function deletedScopes(deleted: { teams: string[]; keys: Array<Pick<VirtualKeyRow, "token" | "team_id" | "user_id">> }): string[] {
  return [...deleted.teams.map((id) => `team:${id}`), ...deleted.keys.flatMap(keyScopes)];
}

// The same member by user id when both have one, else by email (a member added by email may have been matched to a user).
const sameMember = (a: TeamMember, b: TeamMember) =>
  a.user_id && b.user_id ? a.user_id === b.user_id : !!a.user_email && a.user_email === b.user_email;

export async function addMembers(db: RoutedClient, teamId: string, given: TeamMember[]) {
  let members = given;
  const team = await db.$transaction(async (tx) => {
    members = await withUserIds(tx, given);
    const current = (await lockedTeam(tx, teamId)).members_with_roles as unknown as TeamMember[];
    const kept = current.filter((m) => !members.some((n) => sameMember(m, n)));
    const updated = await tx.team.update({
      where: { team_id: teamId },
      data: { members_with_roles: [...kept, ...members] as unknown as Prisma.InputJsonValue },
    });
    await addTeamToUsers(tx, teamId, members);
    return updated;
  });
  await db.$consistency.wrote([`team:${teamId}`, ...members.flatMap((m) => (m.user_id ? [`user:${m.user_id}`] : []))]);
  return teamView(team);
}

export async function removeMember(db: RoutedClient, teamId: string, member: { user_id?: string; user_email?: string }) {
  const { team, userIds } = await db.$transaction(async (tx) => {
    const current = (await lockedTeam(tx, teamId)).members_with_roles as unknown as TeamMember[];
    const target: TeamMember = { role: "user", ...member };
    const kept = current.filter((m) => !sameMember(m, target));
    if (kept.length === current.length)
      throw ApiError.notFound("member: not a member of this team", member.user_id ? "user_id" : "user_email");
    const updated = await tx.team.update({
      where: { team_id: teamId },
      data: { members_with_roles: kept as unknown as Prisma.InputJsonValue },
    });
    // The removed entries' users (one named by email may have been matched to its user) leave the team.
    const userIds = current.filter((m) => sameMember(m, target)).flatMap((m) => (m.user_id ? [m.user_id] : []));
    for (const userId of userIds) {
      await tx.$executeRaw`UPDATE "tandem_user" SET "teams" = array_remove("teams", ${teamId}) WHERE "user_id" = ${userId}`;
      await tx.teamMembership.deleteMany({ where: { team_id: teamId, user_id: userId } });
    }
    return { team: updated, userIds };
  });
  await db.$consistency.wrote([`team:${teamId}`, ...userIds.map((id) => `user:${id}`)]);
  return teamView(team);
}

export interface MemberUpdate {
  user_id?: string;
  user_email?: string;
  role?: "admin" | "user";
  /** The member's budget within the team (null: none). */
  max_budget_in_team?: number | null;
}

/** LiteLLM's /team/member_update: a member's role, and their budget within the team. */
export async function updateMember(db: RoutedClient, teamId: string, update: MemberUpdate) {
  const { member, membership } = await db.$transaction(async (tx) => {
    const team = await lockedTeam(tx, teamId);
    const current = team.members_with_roles as unknown as TeamMember[];
    const [wanted] = await withUserIds(tx, [{ role: "user", user_id: update.user_id, user_email: update.user_email }]);
    const found = current.find((m) => sameMember(m, wanted!));
    if (!found) throw ApiError.notFound("member: not a member of this team", update.user_id ? "user_id" : "user_email");
    const member: TeamMember = { ...found, ...(update.role ? { role: update.role } : {}) };
    if (update.role)
      await tx.team.update({
        where: { team_id: teamId },
        data: { members_with_roles: current.map((m) => (m === found ? member : m)) as unknown as Prisma.InputJsonValue },
      });
    let membership = null;
    if (update.max_budget_in_team !== undefined) {
      const userId = member.user_id ?? wanted!.user_id;
      if (!userId) throw ApiError.badRequest("user_id: a member known only by email has no user to hold a budget", "user_id");
      membership = await tx.teamMembership.upsert({
        where: { team_id_user_id: { team_id: teamId, user_id: userId } },
        create: { team_id: teamId, user_id: userId, max_budget: update.max_budget_in_team },
        update: { max_budget: update.max_budget_in_team },
      });
    }
    return { member, membership };
  });
  await db.$consistency.wrote([`team:${teamId}`, ...(member.user_id ? [`user:${member.user_id}`] : [])]);
  return {
    team_id: teamId,
    user_id: member.user_id ?? null,
    user_email: member.user_email ?? null,
    role: member.role,
    max_budget_in_team: membership?.max_budget ?? null,
  };
}
