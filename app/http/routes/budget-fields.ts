import { z } from "zod";
import { budget as money, limit, parallel } from "./fields.js";

// LiteLLM's budget and end-user (customer) request bodies. The admin UI's client is typed from them.

const id = z.string().min(1).max(256);

/** The limits a budget carries; null clears one. */
export const BudgetFields = {
  max_budget: money,
  soft_budget: money,
  max_parallel_requests: parallel,
  tpm_limit: limit,
  rpm_limit: limit,
  budget_duration: z.string().min(1).nullable().optional(),
  model_max_budget: z.record(z.string(), z.unknown()).nullable().optional(),
};
export type BudgetInput = z.infer<z.ZodObject<typeof BudgetFields>>;

export const NewBudget = z.object({ budget_id: id.optional(), ...BudgetFields });
export const UpdateBudget = z.object({ budget_id: id, ...BudgetFields });
export const BudgetIds = z.object({ budgets: z.array(id).min(1, "list at least one budget id") });
export const DeleteBudget = z.object({ id });

const EndUserFields = {
  alias: z.string().max(256).nullable().optional(),
  blocked: z.boolean().optional(),
  budget_id: id.nullable().optional(),
  allowed_model_region: z.string().min(1).max(64).nullable().optional(),
  default_model: z.string().min(1).nullable().optional(),
  ...BudgetFields,
};

/** A budget of its own (max_budget, limits) or a shared one (budget_id), not both: which would apply is unclear. */
export const oneBudget = <T extends { budget_id?: string | null; max_budget?: number | null }>(value: T, issues: z.RefinementCtx) => {
  if (value.budget_id && value.max_budget !== undefined && value.max_budget !== null)
    issues.addIssue({ code: "custom", path: ["max_budget"], message: "set either max_budget or budget_id, not both" });
};

/** /end_user/new's and /end_user/update's body: the same fields (update leaves out what is not sent). */
export const EndUserBody = z.object({ user_id: id, ...EndUserFields }).superRefine(oneBudget);
export const EndUserIds = z.object({ user_ids: z.array(id).min(1, "list at least one end user id") });
