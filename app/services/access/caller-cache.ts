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
    for (const scope of scopes) {
      if (scope.startsWith("key:")) this.entries.delete(scope.slice(4));
      else if (scope.startsWith("team:")) teams.add(scope.slice(5));
      else if (scope.startsWith("user:")) users.add(scope.slice(5));
    }
    if (teams.size === 0 && users.size === 0) return;
    this.entries.deleteWhere(
      (caller) => (!!caller.key.team_id && teams.has(caller.key.team_id)) || (!!caller.key.user_id && users.has(caller.key.user_id)),
    );
  }
}
