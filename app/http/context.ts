import type { Database } from "../db/database.js";
import type { ModelRoute } from "../config/model-config.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { SpendQueue } from "../services/spend-queue.js";
import type { BudgetReservations } from "../services/budget-reservations.js";

/** Work that must finish before the process exits (spend writes after a response). */
export class Lifecycle {
  draining = false;
  private readonly pending = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/** Everything the HTTP layer needs, built once by the server. */
export interface AppContext {
  database: Database;
  models: Map<string, ModelRoute>;
  masterKey: string;
  log: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  spend: SpendQueue;
  budgets: BudgetReservations;
}
