import type { RoutedClient } from "../../db/routing-client.js";
import type { Budget, EndUser } from "../../generated/prisma/client.js";
import type { Snapshot } from "../billing/spend-queue.js";
import { ExpiringMap } from "./expiring-map.js";

/** An end user as a request is checked against it: blocked or not, its spend and its budget's limits. */
export type EndUserRecord = EndUser & { budget: Budget | null; snapshot: Snapshot };

/**
 * End users a request names, as read a moment ago (on the reader), unknown ones too: a request
 * naming an end user costs no query while its entry lives (`ttlMs`, the key cache's bound). This
 * pod's and the fleet's writes to an end user or to its budget drop the entry at once.
 */
export class EndUsers {
  private readonly entries: ExpiringMap<string, EndUserRecord | null>;

  constructor(
    private readonly dbOf: () => RoutedClient,
    ttlMs: number,
    maxEntries = 10_000,
  ) {
    this.entries = new ExpiringMap(ttlMs, maxEntries);
  }

  async get(userId: string): Promise<EndUserRecord | null> {
    const cached = this.entries.get(userId);
    if (cached) return cached.value;
    const db = this.dbOf();
    db.$consistency.dependOn([`end_user:${userId}`]);
    const snapshot: Snapshot = { lsn: db.$consistency.replayedPosition(), at: Date.now() };
    const row = await db.endUser.findUnique({ where: { user_id: userId }, include: { budget: true } });
    const record = row ? { ...row, snapshot } : null;
    this.entries.set(userId, record);
    return record;
  }

  /** Drops what changed: "end_user:<id>", and "budget:<id>" (every end user on that budget). */
  invalidate(scopes: readonly string[]): void {
    if (this.entries.size === 0) return;
    const budgets = new Set<string>();
    for (const scope of scopes) {
      if (scope.startsWith("end_user:")) this.entries.delete(scope.slice(9));
      else if (scope.startsWith("budget:")) budgets.add(scope.slice(7));
    }
    if (budgets.size > 0) this.entries.deleteWhere((record) => !!record?.budget_id && budgets.has(record.budget_id));
  }
}
