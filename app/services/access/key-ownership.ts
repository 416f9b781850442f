import type { RoutedClient } from "../../db/routing-client.js";
import { ApiError } from "../errors.js";
import { toToken } from "./key-hash.js";
import type { Caller } from "./auth.js";

/**
 * LiteLLM's roles on the management API: the master key and the keys of a
 * `proxy_admin` user administer everything; an `internal_user`'s key manages
 * that user's own keys (generate, update, regenerate, delete) and nothing
 * else — another user's key is 403, "not yours". Viewer roles change nothing.
 */
export function isAdmin(caller: Caller): boolean {
  return caller.kind === "master" || caller.user?.user_role === "proxy_admin";
}

/** The user whose keys this caller may manage, or a 403 saying why it may not. */
export function selfServiceUser(caller: Caller): string {
  if (caller.kind === "master") throw new Error("the master key is the admin, not a user");
  const userId = caller.key.user_id;
  if (!userId || !caller.user)
    // Not a user at all: only the admin manages keys (LiteLLM's 401 for admin routes).
    throw ApiError.unauthorized("Only the master key (proxy admin) or a user's own key can manage keys", "auth_error");
  if (caller.user.user_role !== "internal_user")
    throw ApiError.forbidden(`user role ${caller.user.user_role} may not manage keys`, "user_id");
  return userId;
}

/**
 * What a user's key may set on a new key of that user: the key stays the user's and in the caller's
 * team (so the user's and the team's budgets, models and limits keep applying to it).
 */
export function newKeyFields<T extends { user_id?: string | null; team_id?: string | null; budget_id?: string | null }>(
  caller: Caller,
  fields: T,
): T {
  const userId = selfServiceUser(caller);
  // Budget objects (tiers, end users', organizations') are the admin's to hand out, and not a user's to probe.
  if (fields.budget_id != null) throw ApiError.forbidden("budget_id: only the proxy admin may put a key on a budget", "budget_id");
  if (fields.user_id !== undefined && fields.user_id !== userId)
    throw ApiError.forbidden("user_id: a user may only make keys for themselves", "user_id");
  const ownTeam = caller.kind === "key" ? caller.key.team_id : null;
  if (fields.team_id !== undefined && fields.team_id !== ownTeam)
    throw ApiError.forbidden("team_id: a user's new keys belong to the team of the key that makes them", "team_id");
  return { ...fields, user_id: userId, team_id: ownTeam };
}

// What the admin set on a key (its budget, models, limits, expiry, team, blocking) is the admin's to change.
const SELF_EDITABLE = new Set(["key_alias", "metadata", "new_key"]);

/** Refuses (403, naming the field) a change a user's key may not make to one of the user's keys. */
export function selfEditableFields(caller: Caller, fields: Record<string, unknown>): void {
  selfServiceUser(caller);
  const refused = Object.keys(fields).find((name) => fields[name] !== undefined && !SELF_EDITABLE.has(name));
  if (refused) throw ApiError.forbidden(`${refused}: only the proxy admin may change this on a key`, refused);
}

/** Refuses (403) unless every named key belongs to the caller's user (a missing key is the route's own 404). */
export async function requireOwnKeys(
  db: RoutedClient,
  caller: Caller,
  keys: readonly string[],
  aliases: readonly string[] = [],
): Promise<void> {
  const userId = selfServiceUser(caller);
  const rows = await db.$primary().virtualKey.findMany({
    where: { OR: [{ token: { in: keys.map(toToken) } }, { key_alias: { in: [...aliases] } }] },
    select: { user_id: true },
  });
  if (rows.some((row) => row.user_id !== userId)) throw ApiError.forbidden("key: not one of this user's keys", "key");
}
