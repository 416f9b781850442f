import type { Caller, KeyRecord } from "./auth.js";
import { globMatch } from "../glob.js";
import type { BudgetScope } from "../billing/budget-reservations.js";
import { ApiError } from "../errors.js";
import type { LimitScope } from "./rate-limits.js";
import type { Snapshot } from "../billing/spend-queue.js";
import type { EndUserRecord } from "./end-users.js";
import type { Budget } from "../../generated/prisma/client.js";

/** The configured model groups a request can name. */
export interface ModelCatalog {
  has(model: string): boolean;
  modelNames(): string[];
  /** model_info.access_groups of the group's deployments: names a model list may give instead of the model's. */
  accessGroupsOf?(model: string): string[];
  /** A team's own model (model_info.team_id): only that team's keys may use it. */
  ownerTeam?(model: string): string | undefined;
}

/**
 * A key's `aliases`, then its team's `model_aliases`, let it ask for a name
 * that stands for a configured model ({"gpt-4": "gpt-4o-mini"}).
 */
export function resolveModel(caller: Caller, requested: string): string {
  if (caller.kind === "master") return requested;
  for (const aliases of [caller.key.aliases, caller.key.team?.model_aliases]) {
    const target = (aliases as Record<string, unknown> | null | undefined)?.[requested];
    if (typeof target === "string") return target;
  }
  return requested;
}

/** Models a caller may use: the key's, its team's and its user's lists all apply (an empty list allows all, as in LiteLLM). */
export function allowedModels(caller: Caller, catalog: ModelCatalog): string[] {
  const all = catalog.modelNames();
  if (caller.kind === "master") return all;
  const lists = [caller.key.models, caller.key.team?.models ?? [], caller.user?.models ?? []];
  return all.filter((m) => ownTeamMay(caller, m, catalog) && lists.every((l) => allows(l, m, catalog.accessGroupsOf?.(m))));
}

/** A team's own model is that team's: any other caller is refused it, whatever its lists say. */
function ownTeamMay(caller: Exclude<Caller, { kind: "master" }>, model: string, catalog: ModelCatalog): boolean {
  const owner = catalog.ownerTeam?.(model);
  return owner === undefined || caller.key.team?.team_id === owner;
}

/** May this caller use this model? Configured, and on every list that applies. Budgets and rate limits come next. */
export function checkAccess(caller: Caller, model: string, catalog: ModelCatalog): void {
  if (!catalog.has(model)) {
    const known = catalog.modelNames().join(", ") || "none";
    throw ApiError.badRequest(`model: ${JSON.stringify(model)} is not configured on this proxy (configured: ${known})`, "model");
  }
  if (caller.kind === "master") return;
  const { key, user } = caller;
  const denied = (entity: "key" | "team" | "user", models: string[]) =>
    ApiError.modelAccessDenied(
      entity,
      `${entity} not allowed to access model. This ${entity} can only access models=${JSON.stringify(models)}. Tried to access ${model}`,
    );
  const groups = catalog.accessGroupsOf?.(model);
  if (!allows(key.models, model, groups)) throw denied("key", key.models);
  if (!ownTeamMay(caller, model, catalog)) throw denied("team", key.team?.models ?? []);
  if (key.team && !allows(key.team.models, model, groups)) throw denied("team", key.team.models);
  if (user && !allows(user.models, model, groups)) throw denied("user", user.models);
}

// LiteLLM's names for "any model": on a key, all-team-models defers to the team's list.
const ANY_MODEL = new Set(["*", "all-proxy-models", "all-team-models"]);

/**
 * Whether a key's, team's or user's model list lets it use `model`: empty allows all; entries may be
 * LiteLLM's wildcards (`anthropic/*`) or an access group the model is in (model_info.access_groups).
 */
export function allows(list: readonly string[], model: string, accessGroups: readonly string[] = []): boolean {
  if (list.length === 0) return true;
  return list.some(
    (entry) =>
      entry === model ||
      ANY_MODEL.has(entry) ||
      accessGroups.includes(entry) ||
      (entry.includes("*") && globMatch(entry, model) !== undefined),
  );
}

/**
 * This pod's spend for a scope that a read of it made at `snapshot` does not
 * include (SpendQueue.unwritten), and the part of it the fleet's spend ledger
 * holds too.
 */
export type Unwritten = (scope: string, snapshot?: Snapshot) => { all: number; mirrored: number };

/**
 * What a scope has spent in its current budget period: the spend read plus
 * this pod's spend the read does not include. A period that has ended (its
 * reset not yet written by the reset job) starts from 0 plus this pod's spend
 * since its end.
 */
export function periodSpend(
  row: { spend: number; budget_reset_at: Date | null },
  scope: string,
  unwritten: Unwritten,
  snapshot: Snapshot | undefined,
  now: number,
): { spent: number; mirrored: number; readAt: Snapshot } {
  const end = row.budget_reset_at?.getTime();
  const ended = end !== undefined && end <= now;
  const readAt = ended ? { at: end } : (snapshot ?? { at: now });
  const { all, mirrored } = unwritten(scope, ended ? readAt : snapshot);
  return { spent: (ended ? 0 : row.spend) + all, mirrored, readAt };
}

type LimitRow = Pick<Budget, "max_budget" | "rpm_limit" | "tpm_limit" | "max_parallel_requests" | "budget_reset_at"> & { spend: number };

/**
 * A key's own limits, each falling back to its budget tier's (LiteLLM's budget_id on a key) where
 * the key sets none. A max_budget taken from the tier runs in the tier's period unless the key has
 * a budget_duration; a key's own max_budget keeps the key's own period (none: a one-time budget).
 */
export function keyLimits(key: KeyRecord): LimitRow {
  const tier = key.budget;
  if (!tier) return key;
  return {
    spend: key.spend,
    max_budget: key.max_budget ?? tier.max_budget,
    rpm_limit: key.rpm_limit ?? tier.rpm_limit,
    tpm_limit: key.tpm_limit ?? tier.tpm_limit,
    max_parallel_requests: key.max_parallel_requests ?? tier.max_parallel_requests,
    budget_reset_at: key.budget_duration || key.max_budget !== null ? key.budget_reset_at : tier.budget_reset_at,
  };
}

/** The key, its team and its user: each may carry a budget and rate limits of its own. */
function scopeRows(caller: Caller & { kind: "key" }): Array<{ kind: "key" | "team" | "user"; id: string; row: LimitRow }> {
  const { key, user } = caller;
  return [
    { kind: "key" as const, id: key.token, row: keyLimits(key) },
    ...(key.team ? [{ kind: "team" as const, id: key.team.team_id, row: key.team }] : []),
    ...(user ? [{ kind: "user" as const, id: user.user_id, row: user }] : []),
  ];
}

/** The budgets a key's request is checked against: its own, its team's and its user's, with what each has spent. */
export function budgetScopes(caller: Caller, unwritten: Unwritten, now = Date.now()): BudgetScope[] {
  if (caller.kind === "master") return [];
  const scopes: BudgetScope[] = scopeRows(caller).flatMap(({ kind, id, row }) =>
    row.max_budget === null
      ? []
      : [{ kind, id, maxBudget: row.max_budget, ...periodSpend(row, `${kind}:${id}`, unwritten, caller.snapshot, now) }],
  );
  // The team's organization's budget (LiteLLM's organization_max_budget_check), with its budget object's period.
  const org = caller.key.team?.organization;
  if (org) scopes.push(...budgetObjectScope("organization", org.organization_id, org, unwritten, caller.snapshot, now));
  // The user's budget within the key's team (LiteLLM's max_budget_in_team); it has no period of its own.
  const member = caller.membership;
  if (member?.max_budget !== null && member?.max_budget !== undefined) {
    const id = `${member.team_id}:${member.user_id}`;
    const row = { spend: member.spend, budget_reset_at: null };
    scopes.push({ kind: "member", id, maxBudget: member.max_budget, ...periodSpend(row, `member:${id}`, unwritten, caller.snapshot, now) });
  }
  return scopes;
}

/**
 * The end user's budget, from its budget object: what the end user spent in the budget's period.
 * It applies whoever calls, the master key too (as LiteLLM's end-user limits do).
 */
export function endUserBudgetScopes(endUser: EndUserRecord | null, unwritten: Unwritten, now = Date.now()): BudgetScope[] {
  return endUser ? budgetObjectScope("end_user", endUser.user_id, endUser, unwritten, endUser.snapshot, now) : [];
}

/**
 * The scope of an owner whose limits are a budget object (an end user, an organization): its own
 * spend over the budget's max_budget, in the budget's period; none without a max_budget.
 */
function budgetObjectScope(
  kind: "end_user" | "organization",
  id: string,
  owner: { spend: number; budget: Budget | null },
  unwritten: Unwritten,
  snapshot: Snapshot | undefined,
  now: number,
): BudgetScope[] {
  const budget = owner.budget;
  if (budget?.max_budget === null || budget?.max_budget === undefined) return [];
  const row = { spend: owner.spend, budget_reset_at: budget.budget_reset_at };
  return [{ kind, id, maxBudget: budget.max_budget, ...periodSpend(row, `${kind}:${id}`, unwritten, snapshot, now) }];
}

/** The end user's rate limits, from its budget object. */
export function endUserLimitScopes(endUser: EndUserRecord | null): LimitScope[] {
  const budget = endUser?.budget;
  if (!endUser || !budget || (budget.rpm_limit === null && budget.tpm_limit === null && budget.max_parallel_requests === null)) return [];
  return [
    { kind: "end_user", id: endUser.user_id, rpm: budget.rpm_limit, tpm: budget.tpm_limit, maxParallel: budget.max_parallel_requests },
  ];
}

/** The rate limits a key's request counts against. */
export function limitScopes(caller: Caller): LimitScope[] {
  if (caller.kind === "master") return [];
  return scopeRows(caller).map(({ kind, id, row }) => ({
    kind,
    id,
    rpm: row.rpm_limit,
    tpm: row.tpm_limit,
    maxParallel: row.max_parallel_requests,
  }));
}
