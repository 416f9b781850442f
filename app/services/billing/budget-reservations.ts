import type { CostEstimates } from "./cost-estimates.js";
import { ApiError } from "../errors.js";
import type { Snapshot } from "./spend-queue.js";
import type { LocalCount } from "../access/rate-limits.js";

/** What a budgeted request is checked against: a key's, team's or user's limit and what is already spent. */
export interface BudgetScope {
  /** A member scope's id is `<team_id>:<user_id>`: the user's budget within the team. */
  kind: "key" | "team" | "user" | "member" | "end_user" | "organization";
  id: string;
  maxBudget: number;
  /** Spend as read (database) plus this pod's recorded, unwritten spend. */
  spent: number;
  /** The part of `spent` the fleet's spend ledger holds too (a fleet-wide count includes it already). */
  mirrored: number;
  /** When the spend was read: spend the fleet wrote after it is not in it. */
  readAt: Snapshot;
}

/** Releases what an admitted request reserved (once its spend is recorded, or it failed). */
export type Release = () => void;

/** LiteLLM's words for each spent budget: clients, tests and dashboards match on them. */
export function budgetSpent(scope: BudgetScope, spent: number): ApiError {
  const messages: Record<BudgetScope["kind"], string> = {
    // LiteLLM's current words first (its tests match "Budget has been exceeded!"), then its
    // long-standing ExceededTokenBudget text that dashboards and older clients match.
    key: `Budget has been exceeded! ExceededTokenBudget: Current spend for token: ${spent}; Max Budget for Token: ${scope.maxBudget}`,
    user: `ExceededBudget: User=${scope.id} over budget. Spend=${spent}, Budget=${scope.maxBudget}`,
    team: `Budget has been exceeded! Team=${scope.id} Current cost: ${spent}, Max budget: ${scope.maxBudget}`,
    end_user: `ExceededBudget: End User=${scope.id} over budget. Spend=${spent}, Budget=${scope.maxBudget}`,
    organization: `Budget has been exceeded! Organization=${scope.id} Current cost: ${spent}, Max budget: ${scope.maxBudget}`,
    member: `Budget has been exceeded! User=${scope.id.slice(scope.id.indexOf(":") + 1)} in Team=${scope.id.slice(0, scope.id.indexOf(":"))} Current cost: ${spent}, Max budget: ${scope.maxBudget}`,
  };
  return ApiError.budgetExceeded(messages[scope.kind]);
}

export function budgetHeld(scope: BudgetScope): ApiError {
  return new ApiError(
    429,
    `max_budget: requests in flight have reserved the rest of this ${scope.kind}'s budget (${scope.maxBudget}); retry when they finish`,
    "budget_reserved",
    "max_budget",
  );
}

/**
 * Concurrent requests must not all pass a budget check made before any of
 * them is charged. Each admitted request reserves its expected cost until
 * its spend is recorded: a new request is admitted only while spent +
 * reserved + its own estimate stays within the budget. With no estimate yet
 * a request reserves the whole remaining budget, so a key's first requests
 * run one at a time until one cost is known. N concurrent requests then
 * overshoot a budget by at most one request's deviation from the estimate.
 * These are this pod's (one pod, or a fleet whose Redis is away); a fleet's
 * are counted in Redis (app/fleet/redis-admissions.ts).
 */
export class BudgetReservations {
  private readonly reserved = new Map<string, number>();

  constructor(private readonly estimates: CostEstimates) {}

  /**
   * With `share`, this pod may hold only its part of what is left of each budget (the fleet's
   * other pods hold theirs); with `record`, the fleet admitted the request and the pod only keeps
   * count of what it holds.
   */
  reserve(scopes: readonly BudgetScope[], costKey: string, count: LocalCount = {}): Release {
    const average = this.estimates.get(costKey);
    const holds: Array<[string, number]> = [];
    for (const scope of scopes) {
      const name = `${scope.kind}:${scope.id}`;
      const held = this.reserved.get(name) ?? 0;
      const remaining = (scope.maxBudget - scope.spent) / Math.max(1, count.share ?? 1) - held;
      // A request the fleet admitted before any cost was known holds the rest of the budget there, not here.
      const estimate = average ?? (count.record ? 0 : Math.max(0, remaining));
      if (!count.record) {
        if (scope.spent >= scope.maxBudget) throw budgetSpent(scope, scope.spent);
        if (held > 0 && (average === undefined || estimate > remaining)) throw budgetHeld(scope);
      }
      holds.push([name, estimate]);
    }
    for (const [name, amount] of holds) this.reserved.set(name, (this.reserved.get(name) ?? 0) + amount);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [name, amount] of holds) {
        const left = (this.reserved.get(name) ?? 0) - amount;
        if (left > 1e-12) this.reserved.set(name, left);
        else this.reserved.delete(name);
      }
    };
  }
}
