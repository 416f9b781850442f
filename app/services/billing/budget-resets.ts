import type { RoutedClient } from "../../db/routing-client.js";
import type { Logger } from "../../observability/logger.js";
import { budgetResetAt } from "../admin/durations.js";
import { every } from "../every.js";

type Row = { id: string; budget_duration: string | null };

/**
 * Starts a new budget period for every key, team and user whose
 * `budget_reset_at` has passed: spend back to 0, the next reset one
 * `budget_duration` from now. Budget checks already treat a passed reset as
 * spend 0 (access.ts), so this only makes it durable and visible. Every pod
 * runs it; the update re-checks `budget_reset_at`, so two pods never reset
 * the same period twice.
 */
export async function resetBudgets(db: RoutedClient, now = new Date()): Promise<number> {
  const writer = db.$primary();
  const due = { budget_reset_at: { lte: now }, budget_duration: { not: null } };
  const stillDue = { budget_reset_at: { lte: now } };
  // Per table: its scope prefix, the rows whose period ended, and the reset of some of them.
  const tables: Array<{ scope: string; due: () => Promise<Row[]>; reset: (ids: string[], data: Reset) => Promise<{ count: number }> }> = [
    {
      scope: "key",
      due: async () =>
        (await writer.virtualKey.findMany({ where: due, select: { token: true, budget_duration: true } })).map((k) => ({
          id: k.token,
          budget_duration: k.budget_duration,
        })),
      reset: (ids, data) => writer.virtualKey.updateMany({ where: { token: { in: ids }, ...stillDue }, data }),
    },
    {
      scope: "team",
      due: async () =>
        (await writer.team.findMany({ where: due, select: { team_id: true, budget_duration: true } })).map((t) => ({
          id: t.team_id,
          budget_duration: t.budget_duration,
        })),
      reset: (ids, data) => writer.team.updateMany({ where: { team_id: { in: ids }, ...stillDue }, data }),
    },
    {
      scope: "user",
      due: async () =>
        (await writer.user.findMany({ where: due, select: { user_id: true, budget_duration: true } })).map((u) => ({
          id: u.user_id,
          budget_duration: u.budget_duration,
        })),
      reset: (ids, data) => writer.user.updateMany({ where: { user_id: { in: ids }, ...stillDue }, data }),
    },
  ];
  let reset = 0;
  const scopes: string[] = [];
  for (const table of tables) {
    for (const [duration, ids] of byDuration(await table.due())) {
      reset += (await table.reset(ids, { spend: 0, budget_reset_at: budgetResetAt(duration, now)! })).count;
      scopes.push(...ids.map((id) => `${table.scope}:${id}`));
    }
  }
  // Budget objects: a period's end starts a new one for every end user, organization and tier key on that budget.
  const budgets = (await writer.budget.findMany({ where: due, select: { budget_id: true, budget_duration: true } })).map((b) => ({
    id: b.budget_id,
    budget_duration: b.budget_duration,
  }));
  for (const [duration, ids] of byDuration(budgets)) {
    reset += await writer.$transaction(async (tx) => {
      // Only the budgets this pod moved on (another pod may have just reset some).
      const moved = await tx.budget.updateManyAndReturn({
        where: { budget_id: { in: ids }, ...stillDue },
        data: { budget_reset_at: budgetResetAt(duration, now)! },
        select: { budget_id: true },
      });
      if (moved.length > 0) {
        const onThem = { budget_id: { in: moved.map((b) => b.budget_id) } };
        await tx.endUser.updateMany({ where: onThem, data: { spend: 0 } });
        await tx.organization.updateMany({ where: onThem, data: { spend: 0 } });
        // A key spending against its tier's max_budget follows the tier's period, unless it has one of its own.
        await tx.virtualKey.updateMany({ where: { ...onThem, budget_duration: null, max_budget: null }, data: { spend: 0 } });
      }
      return moved.length;
    });
    scopes.push(...ids.map((id) => `budget:${id}`));
  }
  if (scopes.length > 0) await db.$consistency.wrote(scopes);
  return reset;
}

type Reset = { spend: number; budget_reset_at: Date };

function byDuration(rows: Row[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const row of rows) if (row.budget_duration) groups.set(row.budget_duration, [...(groups.get(row.budget_duration) ?? []), row.id]);
  return groups;
}

/** Runs the reset every `intervalMs` until stopped; a failure (writer down) is logged and retried next time. */
export function scheduleBudgetResets(db: RoutedClient, log: Logger, intervalMs: number): () => void {
  return every(intervalMs, async () => {
    await resetBudgets(db)
      .then((count) => count > 0 && log.info({ count }, "budget periods reset"))
      .catch((error: unknown) => log.warn({ err: error }, "budget reset failed; will retry"));
  });
}
