import type { BudgetReservations } from "../billing/budget-reservations.js";
import { type BudgetScope } from "../billing/budget-reservations.js";
import type { RateLimits } from "./rate-limits.js";
import { type Admission, type LimitScope, type LocalCount } from "./rate-limits.js";

/** What one request is admitted against: the rate limits of its scopes, their budgets, and what it is expected to cost. */
export interface AdmissionRequest {
  limits: readonly LimitScope[];
  budgets: readonly BudgetScope[];
  /** Which requests' average cost estimates this one (key and model). */
  costKey: string;
}

/** An admitted request. `done` once, with the tokens it used (0 if it failed): frees its slots and reservations. */
export interface Ticket {
  done(tokens: number): void;
}

/**
 * Admits a request against every limit and budget it counts against, or
 * refuses it: 429 naming the limit, 400 when a budget is spent, 429 while
 * requests in flight hold the rest of a budget. A refusal counts nothing.
 * One pod counts in its memory; a fleet counts in Redis, in one round trip.
 */
export interface Admissions {
  admit(request: AdmissionRequest): Promise<Ticket>;
}

/** A ticket for a request nothing limits. */
export const FREE: Ticket = { done: () => undefined };

/** The pod's own count: its rate limits and its budget reservations. */
export class LocalAdmissions implements Admissions {
  constructor(
    readonly limits: RateLimits,
    readonly budgets: BudgetReservations,
  ) {}

  admit(request: AdmissionRequest, count: Pick<LocalCount, "share"> = {}): Promise<Ticket> {
    return this.count(request, count);
  }

  /** Counts a request the fleet admitted, without checking (see RateLimits.record). */
  record(request: AdmissionRequest): Ticket {
    const release = this.budgets.reserve(request.budgets, request.costKey, { record: true });
    return this.ticket(release, this.limits.record(request.limits));
  }

  private async count(request: AdmissionRequest, count: Pick<LocalCount, "share">): Promise<Ticket> {
    // Budgets first: a reservation is undone exactly, a counted request is not (a refusal counts nothing).
    const release = this.budgets.reserve(request.budgets, request.costKey, count);
    let admitted: Admission;
    try {
      admitted = await this.limits.admit(request.limits, count);
    } catch (error) {
      release();
      throw error;
    }
    return this.ticket(release, admitted);
  }

  private ticket(release: () => void, admitted: Admission): Ticket {
    let finished = false;
    return {
      done: (tokens) => {
        if (finished) return;
        finished = true;
        release();
        admitted.done(tokens);
      },
    };
  }
}
