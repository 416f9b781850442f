import type { RoutedClient } from "../../db/routing-client.js";
import { Prisma, type Budget } from "../../generated/prisma/client.js";
import type { BudgetInput } from "../../http/routes/budget-fields.js";
import { ApiError } from "../errors.js";
import { budgetResetAt } from "./durations.js";
import { PROXY_ADMIN_USER } from "./proxy-admin.js";

/** A budget as LiteLLM's BudgetTable shows it. */
export function budgetView(budget: Budget) {
  return {
    budget_id: budget.budget_id,
    max_budget: budget.max_budget,
    soft_budget: budget.soft_budget,
    max_parallel_requests: budget.max_parallel_requests,
    tpm_limit: budget.tpm_limit,
    rpm_limit: budget.rpm_limit,
    model_max_budget: budget.model_max_budget,
    budget_duration: budget.budget_duration,
    budget_reset_at: budget.budget_reset_at?.toISOString() ?? null,
    created_at: budget.created_at.toISOString(),
    created_by: budget.created_by,
    updated_at: budget.updated_at.toISOString(),
    updated_by: budget.updated_by,
  };
}

/** The columns a create or an update sets; absent fields are left alone. A new duration starts a period now. */
export function budgetData(input: BudgetInput, now = new Date()) {
  const set = <K extends keyof BudgetInput>(name: K) => (input[name] !== undefined ? { [name]: input[name] } : {});
  return {
    ...set("max_budget"),
    ...set("soft_budget"),
    ...set("max_parallel_requests"),
    ...set("tpm_limit"),
    ...set("rpm_limit"),
    ...(input.model_max_budget !== undefined ? { model_max_budget: input.model_max_budget ?? Prisma.DbNull } : {}),
    ...(input.budget_duration !== undefined
      ? { budget_duration: input.budget_duration, budget_reset_at: budgetResetAt(input.budget_duration, now) }
      : {}),
  } as Prisma.BudgetUpdateInput;
}

/** Whether a body sets any limit of a budget (the end-user routes make one from them). */
export function setsBudget(input: BudgetInput): boolean {
  return Object.values(budgetData(input)).some((value) => value !== undefined);
}

/** A new budget's row: its limits, an id when one is given, and who made it (the admin). */
export function budgetCreateData(input: BudgetInput, budgetId?: string): Prisma.BudgetCreateInput {
  return {
    ...(budgetData(input) as Prisma.BudgetCreateInput),
    ...(budgetId ? { budget_id: budgetId } : {}),
    created_by: PROXY_ADMIN_USER,
    updated_by: PROXY_ADMIN_USER,
  };
}

/** A shared budget named by a body must exist: checked on the writer, inside the transaction that links it. */
export async function requireBudget(tx: Prisma.TransactionClient, budgetId: string): Promise<void> {
  if (!(await tx.budget.findUnique({ where: { budget_id: budgetId }, select: { budget_id: true } })))
    throw ApiError.badRequest(`budget_id: budget ${JSON.stringify(budgetId)} not found; make it with /budget/new`, "budget_id");
}

/**
 * The limits in a body applied to an owner's budget (an end user's, an organization's): changed in
 * place when it has one, else made. Returns the budget id the owner then has (unchanged without limits).
 */
export async function applyBudget(tx: Prisma.TransactionClient, budgetId: string | null, input: BudgetInput): Promise<string | null> {
  if (!setsBudget(input)) return budgetId;
  if (!budgetId) return (await tx.budget.create({ data: budgetCreateData(input) })).budget_id;
  await tx.budget.update({ where: { budget_id: budgetId }, data: { ...budgetData(input), updated_by: PROXY_ADMIN_USER } });
  return budgetId;
}

const notFound = (budgetId: string, param = "budget_id") =>
  ApiError.notFound(`${param}: budget ${JSON.stringify(budgetId)} not found`, param);

export async function newBudget(db: RoutedClient, input: BudgetInput & { budget_id?: string }) {
  try {
    const budget = await db.budget.create({ data: budgetCreateData(input, input.budget_id) });
    await db.$consistency.wrote([`budget:${budget.budget_id}`]);
    return budgetView(budget);
  } catch (error) {
    if ((error as { code?: string }).code === "P2002")
      throw ApiError.badRequest(`budget_id: a budget with id ${JSON.stringify(input.budget_id)} already exists`, "budget_id");
    throw error;
  }
}

export async function updateBudget(db: RoutedClient, budgetId: string, input: BudgetInput) {
  const [budget] = await db.budget.updateManyAndReturn({
    where: { budget_id: budgetId },
    data: { ...budgetData(input), updated_by: PROXY_ADMIN_USER } as Prisma.BudgetUpdateManyMutationInput,
  });
  if (!budget) throw notFound(budgetId);
  await db.$consistency.wrote([`budget:${budgetId}`]);
  return budgetView(budget);
}

/** LiteLLM's /budget/info: the budgets named that exist (an unknown id is left out). */
export async function budgetInfo(db: RoutedClient, budgetIds: string[]) {
  db.$consistency.dependOn(budgetIds.map((id) => `budget:${id}`));
  return (await db.budget.findMany({ where: { budget_id: { in: budgetIds } }, orderBy: { created_at: "asc" } })).map(budgetView);
}

export async function listBudgets(db: RoutedClient) {
  // The caller's own writes first: a budget it just made is in its list.
  db.$consistency.dependOn([]);
  return (await db.budget.findMany({ orderBy: { created_at: "asc" }, take: 10_000 })).map(budgetView);
}

/** Deletes a budget; end users that used it are left without one. */
export async function deleteBudget(db: RoutedClient, budgetId: string) {
  let budget: Budget;
  try {
    budget = await db.budget.delete({ where: { budget_id: budgetId } });
  } catch (error) {
    if ((error as { code?: string }).code === "P2025") throw notFound(budgetId, "id");
    throw error;
  }
  await db.$consistency.wrote([`budget:${budgetId}`]);
  return budgetView(budget);
}
