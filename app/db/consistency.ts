import { AsyncLocalStorage } from "node:async_hooks";
import { formatLsn, LSN_MAX, maxLsn, parseLsn, type Lsn } from "./lsn.js";

/**
 * Read-your-writes by WAL position. A write made through tandem records the
 * writer's WAL position after it (for the caller and for what it touched: a
 * key, a team); a later read that depends on it — in this request, or in a
 * later one by the same caller or about the same key — is served by the
 * reader only once the reader has replayed that far, and by the writer until
 * then. Everything else keeps reading from the reader.
 */

/** Read-your-writes for the services, on the routed client as `db.$consistency`. */
export interface Consistency {
  /** After a committed write: records the writer's WAL position for these scopes, the caller and the current request. */
  wrote(scopes: readonly string[]): Promise<Lsn | undefined>;
  /** Before a read about these scopes: the current request's reads wait for what this pod wrote to them. */
  dependOn(scopes: readonly string[]): void;
  /**
   * Whether the reader may not have replayed this pod's last writes to these
   * scopes yet: a read that already ran (say, a key with its team) is worth
   * repeating after `dependOn` when the row it joined was just changed.
   */
  behind(scopes: readonly string[]): boolean;
  /** How far the reader had replayed at the last health cycle (undefined without a replica). */
  replayedPosition(): Lsn | undefined;
  /**
   * Whether a miss on the reader is final: the read ran on the writer, or the
   * reader had replayed everything the writer had at the last health cycle
   * and everything this pod wrote since. Otherwise a miss (a key created a
   * moment ago, perhaps on another pod) is worth confirming on the writer.
   */
  readerMissIsFinal(): boolean;
  /** The writer's WAL insert position now (undefined without a replica: every read sees the writer). */
  writerPosition(): Promise<Lsn | undefined>;
  /**
   * Another pod wrote these scopes (heard through the fleet's invalidation
   * bus): reads about them go to a reader only once it has replayed `lsn`
   * (or, position unknown, until a writer sample after now settles it).
   */
  heard(scopes: readonly string[], lsn: Lsn | undefined): void;
}

/** Single database: every read is on the writer, so every read sees every write. */
export const NO_REPLICA_CONSISTENCY: Consistency = {
  wrote: async () => undefined,
  dependOn: () => undefined,
  behind: () => false,
  replayedPosition: () => undefined,
  readerMissIsFinal: () => true,
  writerPosition: async () => undefined,
  heard: () => undefined,
};

/** What the last health cycles saw, for deciding whether a key missing on the reader is really missing. */
export interface MissEvidence {
  readerUsable: boolean;
  /** The reader's replay position at the last cycle. */
  replayed: Lsn | undefined;
  /** What the current request's reads need, if anything. */
  needed: Lsn | undefined;
  /** The writer's position one health interval before the last cycle. */
  writerSettled: Lsn | undefined;
  /** The highest position this pod wrote that the reader is not yet known to have replayed. */
  localWrites: Lsn | undefined;
}

/**
 * A reader miss is final when the read already ran on the writer (reader
 * unusable, or behind what this request needs), or when the reader had
 * replayed everything this pod wrote and what the writer had one interval
 * before the last cycle. Not the writer's position at the last cycle itself:
 * a writer always has some WAL in flight (other pods' spend, the standby
 * snapshots Postgres logs on its own), so "replayed the very latest sample"
 * is false most of the time on a busy primary, and every invalid key would
 * cost the writer a read.
 */
export function readerMissIsFinal(e: MissEvidence): boolean {
  if (!e.readerUsable) return true;
  if (e.replayed === undefined) return false;
  if (e.needed !== undefined && e.replayed < e.needed) return true;
  return (e.writerSettled === undefined || e.replayed >= e.writerSettled) && (e.localWrites === undefined || e.replayed >= e.localWrites);
}

/** What one request needs and produced; carried through its async calls. */
export interface RequestConsistency {
  /** Reads in this request need a reader at least this far (undefined: any usable reader). */
  minLsn?: Lsn;
  /** The writer's position after this request's last write (the x-tandem-lsn response header). */
  wroteLsn?: Lsn;
  /** Called when this request writes (the HTTP layer sets the response header). */
  onWrite?: (lsn: Lsn) => void;
  /** The caller's own scope ("caller:<id>"): its later requests read its writes. */
  callerScope?: string;
}

const storage = new AsyncLocalStorage<RequestConsistency>();

export function runWithConsistency<T>(context: RequestConsistency, fn: () => T): T {
  return storage.run(context, fn);
}

/** The position the current request's reads need, if any. */
export function requiredLsn(): Lsn | undefined {
  return storage.getStore()?.minLsn;
}

/** Raises what the current request's reads need (e.g. a key this pod just changed). */
export function requireAtLeast(lsn: Lsn | undefined): void {
  const context = storage.getStore();
  if (context && lsn !== undefined) context.minLsn = maxLsn(context.minLsn, lsn);
}

export { formatLsn, parseLsn };

/** The last write position per scope ("key:<hash>", "team:<id>", "caller:<id>"), bounded. */
export class WritePositions {
  private readonly positions = new Map<string, Lsn>();
  /** Scopes written whose position could not be read, with when: settled by the first writer sample after. */
  private readonly unsettled = new Map<string, number>();

  constructor(private readonly limit = 100_000) {}

  get(scope: string): Lsn | undefined {
    return this.positions.get(scope);
  }

  /** Highest position recorded and not yet known to be replayed. */
  highest(): Lsn | undefined {
    let top: Lsn | undefined;
    for (const lsn of this.positions.values()) top = maxLsn(top, lsn);
    return top;
  }

  record(scopes: readonly string[], lsn: Lsn): void {
    for (const scope of scopes) {
      this.positions.delete(scope); // re-insert: Map order is the eviction order
      this.positions.set(scope, lsn);
    }
    while (this.positions.size > this.limit) {
      const oldest = this.positions.keys().next().value;
      if (oldest === undefined) break;
      this.positions.delete(oldest);
    }
  }

  /**
   * A committed write whose WAL position could not be read (the writer
   * connection broke right after the commit, as in a failover): until a
   * writer position sampled after `at` stands in for it, reads about these
   * scopes go to the writer.
   */
  recordUnsettled(scopes: readonly string[], at: number): void {
    this.record(scopes, LSN_MAX);
    for (const scope of scopes) this.unsettled.set(scope, at);
  }

  /** A writer position sampled at `at`: every write unsettled before then is at or below it. */
  settle(sample: { at: number; lsn: Lsn }): void {
    for (const [scope, since] of this.unsettled) {
      if (sample.at <= since) continue;
      this.unsettled.delete(scope);
      if (this.positions.get(scope) === LSN_MAX) this.positions.set(scope, sample.lsn);
    }
  }

  /** Forgets what the reader has already replayed: those reads can go to it again. */
  prune(replayed: Lsn): void {
    for (const [scope, lsn] of this.positions) if (lsn <= replayed) this.positions.delete(scope);
  }

  get size(): number {
    return this.positions.size;
  }
}

/** Notes a write by the current request: raises its reads' need and reports the position. */
export function noteRequestWrite(lsn: Lsn): void {
  const context = storage.getStore();
  if (!context) return;
  context.minLsn = maxLsn(context.minLsn, lsn);
  context.wroteLsn = maxLsn(context.wroteLsn, lsn);
  context.onWrite?.(lsn);
}

/** The current request's caller scope, set once it is authenticated. */
export function setCallerScope(scope: string): void {
  const context = storage.getStore();
  if (context) context.callerScope = scope;
}

export function callerScope(): string | undefined {
  return storage.getStore()?.callerScope;
}
