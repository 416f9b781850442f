import { ApiError } from "./errors.js";

/** What a budgeted request is checked against: a key's or a team's limit and what is already spent. */
export interface BudgetScope {
  kind: "key" | "team" | "user";
  id: string;
  maxBudget: number;
  /** Spend as read (database) plus this pod's recorded, unwritten spend. */
  spent: number;
}

/**
 * Concurrent requests must not all pass a budget check made before any of
 * them is charged. Each admitted request reserves its expected cost on this
 * pod until its spend is recorded: a new request is admitted only while
 * spent + reserved + its own estimate stays within the budget. The estimate
 * is the key's recent average cost for the model on this pod; with no history
 * yet, a request reserves the whole remaining budget, so a key's first
 * requests run one at a time until one cost is known. On one pod, N
 * concurrent requests overshoot a budget by at most one request's deviation
 * from the estimate; across P pods, by at most P requests.
 */
export class BudgetReservations {
  private readonly reserved = new Map<string, number>();
  private readonly averages = new Map<string, number>();

  /** Reserves the request's expected cost in every scope, or throws: 400 when the budget is spent, 429 while others hold the rest. */
  admit(scopes: readonly BudgetScope[], costKey: string): () => void {
    const average = this.averages.get(costKey);
    const holds: Array<[string, number]> = [];
    for (const scope of scopes) {
      const name = `${scope.kind}:${scope.id}`;
      const held = this.reserved.get(name) ?? 0;
      const remaining = scope.maxBudget - scope.spent - held;
      if (scope.spent >= scope.maxBudget) {
        throw ApiError.budgetExceeded(
          `Budget has been exceeded! ${scope.kind[0]!.toUpperCase()}${scope.kind.slice(1)} spend: ${scope.spent}, max budget: ${scope.maxBudget}`,
        );
      }
      const estimate = average ?? Math.max(0, remaining);
      if (held > 0 && (average === undefined || estimate > remaining)) {
        throw new ApiError(
          429,
          `max_budget: requests in flight have reserved the rest of this ${scope.kind}'s budget (${scope.maxBudget}); retry when they finish`,
          "budget_reserved",
          "max_budget",
        );
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

  /** A request's actual cost: the next estimate for this key and model moves toward it. */
  observe(costKey: string, cost: number): void {
    const previous = this.averages.get(costKey);
    this.averages.set(costKey, previous === undefined ? cost : 0.8 * previous + 0.2 * cost);
    if (this.averages.size > 100_000) this.averages.delete(this.averages.keys().next().value as string);
  }
}
