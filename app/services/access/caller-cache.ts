import type { KeyCaller } from "./auth.js";
import { ExpiringMap } from "./expiring-map.js";

/**
 * Keys, with their team and user, as read a moment ago: the request path's
 * only database read, taken off it. The cache is one more reader with the
 * replica's staleness bound — an entry lives at most `ttlMs` (no longer than
 * DATABASE_READ_REPLICA_MAX_LAG_MS) — and this pod's own writes (key update,
 * block, delete, regenerate; team and user changes) drop the entries they
 * touch at once. Each entry remembers the replica position before its read
 * (`snapshot`), so budget checks add exactly this pod's spend written since.
 * A request that needs a newer position (x-tandem-min-lsn) reads past it.
 */
export class CallerCache {
  private readonly entries: ExpiringMap<string, KeyCaller>;

  constructor(
    readonly ttlMs: number,
    maxEntries = 10_000,
    now: () => number = Date.now,
  ) {
    this.entries = new ExpiringMap(ttlMs, maxEntries, now);
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached caller for a key's hash, unless expired or older than `needed`. */
  get(token: string, needed?: bigint): KeyCaller | undefined {
    const caller = this.entries.get(token)?.value;
    if (caller && needed !== undefined && (caller.snapshot?.lsn === undefined || caller.snapshot.lsn < needed)) {
      this.entries.delete(token);
      return undefined;
    }
    return caller;
  }

  set(caller: KeyCaller): void {
    this.entries.set(caller.key.token, caller);
  }

  /** Drops what this pod just changed: "key:<hash>", "team:<id>" (its keys), "user:<id>" (theirs). */
  invalidate(scopes: readonly string[]): void {
    if (this.entries.size === 0) return;
    const teams = new Set<string>();
    const users = new Set<string>();
    const organizations = new Set<string>();
    const budgets = new Set<string>();
    for (const scope of scopes) {
      if (scope.startsWith("key:")) this.entries.delete(scope.slice(4));
      else if (scope.startsWith("team:")) teams.add(scope.slice(5));
      else if (scope.startsWith("user:")) users.add(scope.slice(5));
      else if (scope.startsWith("organization:")) organizations.add(scope.slice(13));
      else if (scope.startsWith("budget:")) budgets.add(scope.slice(7));
    }
    if (teams.size === 0 && users.size === 0 && organizations.size === 0 && budgets.size === 0) return;
    this.entries.deleteWhere((caller) => {
      const { team_id: teamId, user_id: userId, team } = caller.key;
      const org = team?.organization;
      return (
        (!!teamId && teams.has(teamId)) ||
        (!!userId && users.has(userId)) ||
        (!!org && organizations.has(org.organization_id)) ||
        (!!org?.budget_id && budgets.has(org.budget_id)) ||
        (!!caller.key.budget_id && budgets.has(caller.key.budget_id))
      );
    });
  }
}
