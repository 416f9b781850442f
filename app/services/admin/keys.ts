import type { RoutedClient, WriterTransaction as Tx } from "../../db/routing-client.js";
import type { Budget, Prisma, VirtualKey } from "../../generated/prisma/client.js";
import { budgetView, requireBudget } from "./budgets.js";
import { budgetResetAt, parseDuration } from "./durations.js";
import { ApiError } from "../errors.js";
import { maskKey, newVirtualKey, hashKey, toToken } from "../access/key-hash.js";
import { paged, type Page } from "./paging.js";

/** The limits a key, a user and a team share (LiteLLM's names). */
export interface LimitFields {
  max_budget?: number | null;
  budget_duration?: string | null;
  rpm_limit?: number | null;
  tpm_limit?: number | null;
  max_parallel_requests?: number | null;
  models?: string[];
  metadata?: Record<string, unknown>;
}

export interface KeyFields extends LimitFields {
  team_id?: string | null;
  user_id?: string | null;
  key_alias?: string | null;
  duration?: string | null;
  aliases?: Record<string, string>;
  blocked?: boolean;
  budget_id?: string | null;
}

export interface GenerateKeyInput extends KeyFields {
  /** A key value chosen by the caller instead of a random one. */
  key?: string;
}

type LimitRow = Pick<
  VirtualKey,
  | "models"
  | "max_budget"
  | "spend"
  | "budget_duration"
  | "budget_reset_at"
  | "rpm_limit"
  | "tpm_limit"
  | "max_parallel_requests"
  | "metadata"
> & { created_at: Date; updated_at: Date };

/** The fields keys, users and teams share, as LiteLLM shows them. */
export function limitView(row: LimitRow) {
  return {
    models: row.models,
    max_budget: row.max_budget,
    spend: row.spend,
    budget_duration: row.budget_duration,
    budget_reset_at: row.budget_reset_at?.toISOString() ?? null,
    rpm_limit: row.rpm_limit,
    tpm_limit: row.tpm_limit,
    max_parallel_requests: row.max_parallel_requests,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * A key as LiteLLM's /key/info and /key/list show it: never the secret, the hash as `token`. Its
 * budget tier, when read with it, as LiteLLM's `litellm_budget_table`.
 */
export function keyView(key: VirtualKey & { budget?: Budget | null }) {
  return {
    token: key.token,
    key_name: key.key_name,
    key_alias: key.key_alias,
    aliases: key.aliases,
    ...limitView(key),
    team_id: key.team_id,
    user_id: key.user_id,
    blocked: key.blocked,
    expires: key.expires?.toISOString() ?? null,
    budget_id: key.budget_id,
    ...(key.budget !== undefined ? { litellm_budget_table: key.budget ? budgetView(key.budget) : null } : {}),
  };
}

const withBudget = { budget: true } as const;

/** Every read-your-writes scope a change to this key touches. */
export function keyScopes(key: Pick<VirtualKey, "token" | "team_id" | "user_id">): string[] {
  return [`key:${key.token}`, ...(key.team_id ? [`team:${key.team_id}`] : []), ...(key.user_id ? [`user:${key.user_id}`] : [])];
}

/** The columns a create or an update sets, from LiteLLM's field names; absent fields are left alone. */
export function limitData(input: LimitFields, now = new Date()) {
  return {
    ...(input.models !== undefined ? { models: input.models } : {}),
    ...(input.max_budget !== undefined ? { max_budget: input.max_budget } : {}),
    ...(input.budget_duration !== undefined
      ? { budget_duration: input.budget_duration, budget_reset_at: budgetResetAt(input.budget_duration, now) }
      : {}),
    ...(input.rpm_limit !== undefined ? { rpm_limit: input.rpm_limit } : {}),
    ...(input.tpm_limit !== undefined ? { tpm_limit: input.tpm_limit } : {}),
    ...(input.max_parallel_requests !== undefined ? { max_parallel_requests: input.max_parallel_requests } : {}),
    ...(input.metadata !== undefined ? { metadata: input.metadata as Prisma.InputJsonValue } : {}),
  };
}

function keyData(input: KeyFields) {
  return {
    ...limitData(input),
    ...(input.team_id !== undefined ? { team_id: input.team_id } : {}),
    ...(input.user_id !== undefined ? { user_id: input.user_id } : {}),
    ...(input.key_alias !== undefined ? { key_alias: input.key_alias } : {}),
    ...(input.aliases !== undefined ? { aliases: input.aliases } : {}),
    ...(input.blocked !== undefined ? { blocked: input.blocked } : {}),
    ...(input.budget_id !== undefined ? { budget_id: input.budget_id } : {}),
    ...(input.duration !== undefined
      ? { expires: input.duration ? parseDuration(input.duration, "duration").after(new Date()) : null }
      : {}),
  };
}

/**
 * The team and budget a request names must exist; checked on the writer, inside the write, so one
 * created a moment ago counts and one deleted meanwhile is refused.
 */
async function requireRelated(tx: Tx, input: KeyFields): Promise<void> {
  if (input.team_id) {
    const team = await tx.team.findUnique({ where: { team_id: input.team_id }, select: { team_id: true } });
    if (!team) throw ApiError.badRequest(`team_id: team ${input.team_id} does not exist`, "team_id");
  }
  if (input.budget_id) await requireBudget(tx, input.budget_id);
}

/** A key may name a user before the user has a row (as in LiteLLM); the row is made so the user's spend has a home. */
/**
 * The user row a key names, made if missing. A user made this way (not by /user/new) is a viewer:
 * their keys may not manage keys until an admin gives them a role.
 */
async function ensureUser(tx: Tx, userId: string | null | undefined): Promise<void> {
  if (userId) await tx.user.createMany({ data: [{ user_id: userId, user_role: IMPLICIT_USER_ROLE }], skipDuplicates: true });
}

export const IMPLICIT_USER_ROLE = "internal_user_viewer";

function uniqueViolation(error: unknown, input: { key_alias?: string | null; key?: string }): never {
  const target = String((error as { meta?: { target?: unknown } }).meta?.target ?? "");
  if ((error as { code?: string }).code === "P2002") {
    if (target.includes("key_alias") || (!input.key && input.key_alias))
      throw ApiError.badRequest(`key_alias: a key with alias ${JSON.stringify(input.key_alias)} already exists`, "key_alias");
    throw ApiError.badRequest("key: a key with this value already exists", "key");
  }
  throw error;
}

export async function generateKey(db: RoutedClient, input: GenerateKeyInput) {
  const key = input.key ?? newVirtualKey();
  try {
    const row = await db.$transaction(async (tx) => {
      await requireRelated(tx, input);
      await ensureUser(tx, input.user_id);
      return tx.virtualKey.create({ data: { token: hashKey(key), key_name: maskKey(key), ...keyData(input) }, include: withBudget });
    });
    await db.$consistency.wrote(keyScopes(row));
    // LiteLLM names the key's hash token_id too.
    return { key, ...keyView(row), token_id: row.token };
  } catch (error) {
    return uniqueViolation(error, input);
  }
}

/** Finds a key on the writer inside a write (a key made a moment ago counts), or 404 naming it. */
async function existingKey(tx: Tx, keyOrToken: string): Promise<VirtualKey> {
  const row = await tx.virtualKey.findUnique({ where: { token: toToken(keyOrToken) } });
  if (!row) throw ApiError.notFound("key: no such key", "key");
  return row;
}

export async function updateKey(db: RoutedClient, keyOrToken: string, input: KeyFields) {
  try {
    const [before, after] = await db.$transaction(async (tx) => {
      const found = await existingKey(tx, keyOrToken);
      await requireRelated(tx, input);
      await ensureUser(tx, input.user_id);
      return [found, await tx.virtualKey.update({ where: { token: found.token }, data: keyData(input), include: withBudget })] as const;
    });
    await db.$consistency.wrote([...keyScopes(before), ...keyScopes(after)]);
    return { key: keyOrToken, ...keyView(after) };
  } catch (error) {
    return uniqueViolation(error, input);
  }
}

/** A new secret for the same key (spend, limits and alias stay); the old secret stops working at once. */
export async function regenerateKey(db: RoutedClient, keyOrToken: string, input: KeyFields & { new_key?: string }) {
  const key = input.new_key ?? newVirtualKey();
  try {
    const [before, after] = await db.$transaction(async (tx) => {
      const found = await existingKey(tx, keyOrToken);
      await requireRelated(tx, input);
      await ensureUser(tx, input.user_id);
      const updated = await tx.virtualKey.update({
        where: { token: found.token },
        data: { ...keyData(input), token: hashKey(key), key_name: maskKey(key) },
        include: withBudget,
      });
      return [found, updated] as const;
    });
    await db.$consistency.wrote([...keyScopes(before), ...keyScopes(after)]);
    return { key, ...keyView(after) };
  } catch (error) {
    return uniqueViolation(error, { key: input.new_key, key_alias: input.key_alias });
  }
}

export async function keyInfo(db: RoutedClient, keyOrToken: string) {
  const token = toToken(keyOrToken);
  db.$consistency.dependOn([`key:${token}`]);
  const row = await db.virtualKey.findUnique({ where: { token }, include: withBudget });
  if (!row) throw ApiError.notFound("key: no such key", "key");
  const { token: _token, ...info } = keyView(row);
  return { key: keyOrToken, info };
}

export interface KeyListFilter {
  user_id?: string;
  team_id?: string;
  key_alias?: string;
  /** tandem's: part of a key's alias or user id, any case (the admin UI's search box). */
  search?: string;
  return_full_object?: boolean;
}

/** LiteLLM's /key/list: hashed tokens (or whole keys with return_full_object), newest first, a page at a time. */
export async function listKeys(db: RoutedClient, filter: KeyListFilter, page: Page) {
  // The caller's list shows the caller's own changes (read-your-writes by caller).
  db.$consistency.dependOn(filter.user_id ? [`user:${filter.user_id}`] : []);
  const where = {
    ...(filter.user_id ? { user_id: filter.user_id } : {}),
    ...(filter.team_id ? { team_id: filter.team_id } : {}),
    ...(filter.key_alias ? { key_alias: filter.key_alias } : {}),
    ...(filter.search
      ? {
          OR: [
            { key_alias: { contains: filter.search, mode: "insensitive" as const } },
            { user_id: { contains: filter.search, mode: "insensitive" as const } },
          ],
        }
      : {}),
  };
  const [rows, total] = await Promise.all([
    db.virtualKey.findMany({ where, orderBy: [{ created_at: "desc" }, { token: "asc" }], skip: page.skip, take: page.size }),
    db.virtualKey.count({ where }),
  ]);
  return {
    keys: filter.return_full_object ? rows.map(keyView) : rows.map((r) => r.token),
    ...paged(page, total),
  };
}

/** By secret/hash (`keys`) and/or by `key_aliases`; answers which were deleted, in the caller's terms. */
export async function deleteKeys(db: RoutedClient, keys: string[], aliases: string[]) {
  const tokens = keys.map(toToken);
  // Which exist and their deletion in one writer transaction: the replica could miss a key made a moment ago.
  const existing = await db.$transaction(async (tx) => {
    const found = await tx.virtualKey.findMany({
      where: { OR: [{ token: { in: tokens } }, { key_alias: { in: aliases } }] },
      select: { token: true, team_id: true, user_id: true, key_alias: true },
    });
    await tx.virtualKey.deleteMany({ where: { token: { in: found.map((k) => k.token) } } });
    return found;
  });
  await db.$consistency.wrote(existing.flatMap(keyScopes));
  if (existing.length === 0) throw ApiError.notFound("keys: none of the keys exist", "keys");
  const deleted = new Set(existing.map((k) => k.token));
  const deletedAliases = new Set(existing.map((k) => k.key_alias));
  return {
    deleted_keys: [...keys.filter((_, i) => deleted.has(tokens[i] ?? "")), ...aliases.filter((a) => deletedAliases.has(a))],
  };
}
