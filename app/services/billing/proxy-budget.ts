import type { RoutedClient } from "../../db/routing-client.js";
import type { User } from "../../generated/prisma/client.js";
import { ApiError } from "../errors.js";
import { budgetResetAt } from "../admin/durations.js";
import { periodSpend, type Unwritten } from "../access/access.js";
import type { Snapshot } from "./spend-queue.js";
import type { ProxyBudgetSettings } from "../../config/model-config.js";
import type { Logger } from "../../observability/logger.js";

/** LiteLLM's name for the user row that carries the whole proxy's budget and spend. */
export const PROXY_BUDGET_USER = "litellm-proxy-budget";

/**
 * The global proxy budget, as LiteLLM keeps it: a user row named
 * `litellm-proxy-budget` (made at start, reset by the budget job like any
 * user's) that every request's spend grows, with or without a budget (LiteLLM's
 * tests read it). With `litellm_settings.max_budget`, a virtual key's request is
 * refused once that spend has reached it. Unlike a key's budget nothing is reserved:
 * the whole proxy's traffic would queue behind one reservation, so requests
 * in flight when the budget runs out may overshoot it by their own cost.
 * The row is read on the reader at most every `refreshMs`, and this pod's
 * spend written since that read is added to it.
 */
export class ProxyBudget {
  /** The last row read (and when): checks use it while a newer read is on its way, or failed. */
  private last: { row: User | null; snapshot: Snapshot } | undefined;
  private reading: Promise<void> | undefined;
  private readAt = 0;

  constructor(
    private readonly db: RoutedClient,
    readonly settings: ProxyBudgetSettings,
    private readonly unwritten: Unwritten,
    private readonly refreshMs = 1000,
  ) {}

  /** Makes the row (or sets its budget) on the writer, keeping the spend it has. */
  async ensureRow(now = new Date()): Promise<void> {
    const { maxBudget, budgetDuration } = this.settings;
    const budget = {
      max_budget: maxBudget,
      budget_duration: budgetDuration ?? null,
    };
    const existing = await this.db.$primary().user.findUnique({ where: { user_id: PROXY_BUDGET_USER } });
    const resetAt = budgetDuration ? budgetResetAt(budgetDuration, now) : null;
    if (!existing) {
      await this.db.user.create({ data: { user_id: PROXY_BUDGET_USER, teams: [], ...budget, budget_reset_at: resetAt } });
    } else if (existing.max_budget !== maxBudget || existing.budget_duration !== budget.budget_duration) {
      await this.db.user.update({ where: { user_id: PROXY_BUDGET_USER }, data: { ...budget, budget_reset_at: resetAt } });
    }
    await this.db.$consistency.wrote([`user:${PROXY_BUDGET_USER}`]);
  }

  /** Makes the row now, or — the writer away — every `intervalMs` until it is made; returns a stop. */
  keepEnsuring(log: Logger, intervalMs: number): () => void {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const attempt = () =>
      this.ensureRow().catch((error: unknown) => {
        log.warn({ err: error }, `${PROXY_BUDGET_USER}: could not write the global budget row; retrying`);
        if (!stopped) timer = setTimeout(() => void attempt(), intervalMs).unref();
      });
    void attempt();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /**
   * Throws LiteLLM's 400 budget_exceeded once the proxy's spend has reached its budget. Only the
   * first check waits for a read; later ones use the last row read while the next is fetched, and
   * a failed read keeps the last row (a database away never refuses requests for this budget).
   */
  async check(now = Date.now()): Promise<void> {
    if (this.settings.maxBudget === null) return;
    if (!this.reading && now - this.readAt >= this.refreshMs) {
      this.readAt = now;
      const snapshot: Snapshot = { lsn: this.db.$consistency.replayedPosition(), at: now };
      this.reading = this.db.user
        .findUnique({ where: { user_id: PROXY_BUDGET_USER } })
        .then((row) => void (this.last = { row, snapshot }))
        .catch(() => undefined)
        .finally(() => (this.reading = undefined));
    }
    if (!this.last) await this.reading;
    if (!this.last) return;
    const { row, snapshot } = this.last;
    const spent = row
      ? periodSpend(row, `user:${PROXY_BUDGET_USER}`, this.unwritten, snapshot, now).spent
      : this.unwritten(`user:${PROXY_BUDGET_USER}`).all;
    const max = row?.max_budget ?? this.settings.maxBudget;
    if (max !== null && spent >= max) throw ApiError.budgetExceeded(`Budget has been exceeded! Current cost: ${spent}, Max budget: ${max}`);
  }
}
