import { randomUUID } from "node:crypto";
import type { RoutedClient } from "../../db/routing-client.js";
import type { User } from "../../generated/prisma/client.js";
import { ApiError } from "../errors.js";
import { generateKey, keyScopes, keyView, limitData, limitView, type LimitFields } from "./keys.js";
import type { Page } from "./paging.js";

export interface UserFields extends LimitFields {
  user_email?: string | null;
  user_role?: string;
}

export interface NewUserInput extends UserFields {
  user_id?: string;
  teams?: string[];
  /** LiteLLM makes a key for the new user unless told not to. */
  auto_create_key?: boolean;
  key_alias?: string | null;
  duration?: string | null;
  /** The team the user's first key belongs to (LiteLLM's /user/new team_id). */
  team_id?: string | null;
}

export function userView(user: User) {
  return {
    user_id: user.user_id,
    user_email: user.user_email,
    user_role: user.user_role,
    teams: user.teams,
    ...limitView(user),
  };
}

function userData(input: UserFields) {
  return {
    ...limitData(input),
    ...(input.user_email !== undefined ? { user_email: input.user_email } : {}),
    ...(input.user_role !== undefined ? { user_role: input.user_role } : {}),
  };
}

/** LiteLLM's /user/new: the user and, unless auto_create_key is false, a key for them (returned once). */
export async function newUser(db: RoutedClient, input: NewUserInput) {
  const userId = input.user_id ?? randomUUID();
  let user: User;
  try {
    user = await db.user.create({ data: { user_id: userId, teams: input.teams ?? [], ...userData(input) } });
  } catch (error) {
    if ((error as { code?: string }).code === "P2002")
      throw ApiError.badRequest(`user_id: a user with id ${JSON.stringify(userId)} already exists`, "user_id");
    throw error;
  }
  await db.$consistency.wrote([`user:${userId}`]);
  if (input.auto_create_key === false) return { ...userView(user), key: null };
  // The key carries the user's id; its own limits are left open: the user's apply through the user.
  const key = await generateKey(db, { user_id: userId, key_alias: input.key_alias, duration: input.duration, team_id: input.team_id });
  return { ...userView(user), key: key.key, token: key.token, expires: key.expires };
}

export async function userInfo(db: RoutedClient, userId: string) {
  db.$consistency.dependOn([`user:${userId}`]);
  const [user, keys] = await Promise.all([
    db.user.findUnique({ where: { user_id: userId } }),
    db.virtualKey.findMany({ where: { user_id: userId }, orderBy: { created_at: "asc" } }),
  ]);
  if (!user) throw ApiError.notFound(`user_id: user ${userId} not found`, "user_id");
  const [teams, memberships] =
    user.teams.length > 0
      ? await Promise.all([
          db.team.findMany({ where: { team_id: { in: user.teams } } }),
          db.teamMembership.findMany({ where: { user_id: userId } }),
        ])
      : [[], []];
  return {
    user_id: user.user_id,
    user_info: userView(user),
    keys: keys.map(keyView),
    teams: teams.map((t) => ({
      team_id: t.team_id,
      team_alias: t.team_alias,
      models: t.models,
      max_budget: t.max_budget,
      spend: t.spend,
      // LiteLLM's membership rows: the user's spend in the team and their budget there.
      team_memberships: memberships
        .filter((m) => m.team_id === t.team_id)
        .map((m) => ({
          team_id: m.team_id,
          user_id: m.user_id,
          spend: m.spend,
          litellm_budget_table: m.max_budget === null ? null : { max_budget: m.max_budget },
        })),
    })),
  };
}

/**
 * LiteLLM's /user/update creates the user when there is none yet (so an admin can set a budget for
 * a user id before it first calls, as LiteLLM's global proxy budget user is made). `spend` may be set
 * by the admin, as in LiteLLM.
 */
export async function updateUser(db: RoutedClient, userId: string, input: UserFields & { spend?: number }) {
  const data = { ...userData(input), ...(input.spend !== undefined ? { spend: input.spend } : {}) };
  const user = await db.user.upsert({ where: { user_id: userId }, create: { user_id: userId, teams: [], ...data }, update: data });
  await db.$consistency.wrote([`user:${userId}`]);
  return userView(user);
}

/** LiteLLM's /user/list: newest first, `page`/`page_size`. */
export async function listUsers(db: RoutedClient, filter: { user_email?: string; role?: string }, page: Page) {
  db.$consistency.dependOn([]);
  const where = {
    ...(filter.user_email ? { user_email: filter.user_email } : {}),
    ...(filter.role ? { user_role: filter.role } : {}),
  };
  const [users, total] = await Promise.all([
    db.user.findMany({ where, orderBy: [{ created_at: "desc" }, { user_id: "asc" }], skip: page.skip, take: page.size }),
    db.user.count({ where }),
  ]);
  return {
    users: users.map(userView),
    total,
    page: page.page,
    page_size: page.size,
    total_pages: Math.max(1, Math.ceil(total / page.size)),
  };
}

/** Deletes the users and, as LiteLLM does, their keys. */
export async function deleteUsers(db: RoutedClient, userIds: string[]) {
  const { users, keys } = await db.$transaction(async (tx) => {
    const found = await tx.user.findMany({ where: { user_id: { in: userIds } }, select: { user_id: true } });
    const ids = found.map((u) => u.user_id);
    const owned = await tx.virtualKey.findMany({ where: { user_id: { in: ids } }, select: { token: true, team_id: true, user_id: true } });
    await tx.virtualKey.deleteMany({ where: { user_id: { in: ids } } });
    await tx.user.deleteMany({ where: { user_id: { in: ids } } });
    return { users: ids, keys: owned };
  });
  await db.$consistency.wrote([...users.map((id) => `user:${id}`), ...keys.flatMap(keyScopes)]);
  if (users.length === 0) throw ApiError.notFound("user_ids: none of the users exist", "user_ids");
  return { deleted_users: users, deleted_keys: keys.length };
}
