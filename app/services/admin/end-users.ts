import type { RoutedClient } from "../../db/routing-client.js";
import type { Budget, EndUser } from "../../generated/prisma/client.js";
import type { BudgetInput } from "../../http/routes/budget-fields.js";
import { ApiError } from "../errors.js";
import { applyBudget, budgetView, requireBudget } from "./budgets.js";

export interface EndUserInput extends BudgetInput {
  alias?: string | null;
  blocked?: boolean;
  budget_id?: string | null;
  allowed_model_region?: string | null;
  default_model?: string | null;
}

/** What a new or changed end user is checked against: the models and regions this proxy serves. */
export interface EndUserRules {
  hasModel(model: string): boolean;
  regions(): string[];
}

type WithBudget = EndUser & { budget: Budget | null };

/** An end user as LiteLLM's CustomerResponse shows it, with its budget in `litellm_budget_table`. */
export function endUserView(row: WithBudget) {
  return {
    user_id: row.user_id,
    alias: row.alias,
    spend: row.spend,
    blocked: row.blocked,
    allowed_model_region: row.allowed_model_region,
    default_model: row.default_model,
    budget_id: row.budget_id,
    litellm_budget_table: row.budget ? budgetView(row.budget) : null,
  };
}

const missing = (ids: string[], param: string) =>
  ApiError.notFound(`End User Id${ids.length > 1 ? "(s)" : ""}=${ids.join(", ")} does not exist in db`, param);

function check(input: EndUserInput, rules: EndUserRules): void {
  if (input.default_model && !rules.hasModel(input.default_model))
    throw ApiError.badRequest(`default_model: ${JSON.stringify(input.default_model)} is not a model on this proxy`, "default_model");
  const region = input.allowed_model_region;
  if (region && !rules.regions().includes(region)) {
    const known = rules.regions().join(", ") || "none: no deployment sets litellm_params.region_name";
    throw ApiError.badRequest(
      `allowed_model_region: no deployment is in region ${JSON.stringify(region)} (regions: ${known})`,
      "allowed_model_region",
    );
  }
}

function columns(input: EndUserInput) {
  return {
    ...(input.alias !== undefined ? { alias: input.alias } : {}),
    ...(input.blocked !== undefined ? { blocked: input.blocked } : {}),
    ...(input.allowed_model_region !== undefined ? { allowed_model_region: input.allowed_model_region } : {}),
    ...(input.default_model !== undefined ? { default_model: input.default_model } : {}),
  };
}

/**
 * LiteLLM's /end_user/new: the end user with a shared budget (`budget_id`) or a budget of its own
 * made from the limits in the body, in one transaction.
 */
export async function newEndUser(db: RoutedClient, userId: string, input: EndUserInput, rules: EndUserRules) {
  check(input, rules);
  try {
    const row = await db.$transaction(async (tx) => {
      if (input.budget_id) await requireBudget(tx, input.budget_id);
      const own = await applyBudget(tx, null, input);
      return tx.endUser.create({
        data: { user_id: userId, ...columns(input), budget_id: own ?? input.budget_id ?? null },
        include: { budget: true },
      });
    });
    await db.$consistency.wrote([`end_user:${row.user_id}`]);
    return endUserView(row);
  } catch (error) {
    if ((error as { code?: string }).code === "P2002")
      throw ApiError.badRequest(`Customer already exists, passed user_id=${userId}. Please pass a new user_id.`, "user_id");
    throw error;
  }
}

export async function endUserInfo(db: RoutedClient, userId: string) {
  db.$consistency.dependOn([`end_user:${userId}`]);
  const row = await db.endUser.findUnique({ where: { user_id: userId }, include: { budget: true } });
  if (!row) throw missing([userId], "end_user_id");
  return endUserView(row);
}

/**
 * LiteLLM's /end_user/update: `budget_id` moves the end user to another budget; limits in the body
 * change its budget in place (one is made if it has none).
 */
export async function updateEndUser(db: RoutedClient, userId: string, input: EndUserInput, rules: EndUserRules) {
  check(input, rules);
  const row = await db.$transaction(async (tx) => {
    const current = await tx.endUser.findUnique({ where: { user_id: userId } });
    if (!current) throw missing([userId], "user_id");
    if (input.budget_id) await requireBudget(tx, input.budget_id);
    const budgetId = await applyBudget(tx, input.budget_id !== undefined ? input.budget_id : current.budget_id, input);
    return tx.endUser.update({ where: { user_id: userId }, data: { ...columns(input), budget_id: budgetId }, include: { budget: true } });
  });
  await db.$consistency.wrote([`end_user:${row.user_id}`, ...(row.budget_id ? [`budget:${row.budget_id}`] : [])]);
  return endUserView(row);
}

export async function listEndUsers(db: RoutedClient) {
  // The caller's own writes first: an end user it just made is in its list.
  db.$consistency.dependOn([]);
  return (await db.endUser.findMany({ include: { budget: true }, orderBy: { created_at: "asc" }, take: 10_000 })).map(endUserView);
}

/** Deletes them all, or — one unknown — none. */
export async function deleteEndUsers(db: RoutedClient, userIds: string[]) {
  const ids = [...new Set(userIds)];
  const count = await db.$transaction(async (tx) => {
    const found = new Set(
      (await tx.endUser.findMany({ where: { user_id: { in: ids } }, select: { user_id: true } })).map((r) => r.user_id),
    );
    if (found.size !== ids.length)
      throw missing(
        ids.filter((id) => !found.has(id)),
        "user_ids",
      );
    const { count } = await tx.endUser.deleteMany({ where: { user_id: { in: ids } } });
    return count;
  });
  await db.$consistency.wrote(ids.map((id) => `end_user:${id}`));
  return { deleted_customers: count, message: `Successfully deleted customers with ids: ${JSON.stringify(ids)}` };
}

/** Blocks (or unblocks) each end user, making the ones not there yet (LiteLLM's /customer/block). */
export async function setBlocked(db: RoutedClient, userIds: string[], blocked: boolean) {
  const ids = [...new Set(userIds)];
  const rows = await db.$transaction(
    ids.map((user_id) =>
      db.$primary().endUser.upsert({ where: { user_id }, create: { user_id, blocked }, update: { blocked }, include: { budget: true } }),
    ),
  );
  await db.$consistency.wrote(ids.map((id) => `end_user:${id}`));
  return rows.map(endUserView);
}
