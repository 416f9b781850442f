import type { Logger } from "../../observability/logger.js";
import type { SpendMirror } from "./spend-mirror.js";
import type { SpendRecord } from "./spend.js";

export interface SpendQueueOptions {
  /** How often pending spend is written (one writer transaction per flush). */
  intervalMs: number;
  /** Most entries in one flush. */
  maxBatch: number;
  /** Most entries held; past it new spend is counted as dropped, loudly. */
  maxQueued: number;
  log: Logger;
  onDrop?: () => void;
  onFlushFailure?: () => void;
  /** How far the replica that budget checks read has replayed (undefined: reads see the writer). */
  replayed?: () => bigint | undefined;
  /**
   * How long written spend stays counted after the replica has replayed it:
   * a budget check may use a key read before that (the key cache), whose
   * spend does not include it yet.
   */
  retainMs?: number;
  /** Where acknowledged spend is also kept until written, so the pod's death loses none of it (a fleet's Redis). */
  mirror?: SpendMirror;
  now?: () => number;
}

/**
 * Writes one batch; must be idempotent per request id (a retry after an
 * unknown outcome repeats nothing). Returns the writer's WAL position after
 * the commit, when there is a replica to wait for.
 */
export type SpendWriter = (batch: readonly SpendRecord[]) => Promise<bigint | undefined>;

/**
 * Spend is billing: it is queued on the pod when a completion is
 * acknowledged and written in batches — one writer transaction per flush,
 * not per request — and a batch that fails to write stays queued and is
 * retried with backoff, through a writer outage, until it lands. SIGTERM
 * flushes what is left. Alone, what a SIGKILL loses is at most one flush
 * interval's worth plus whatever an outage had queued; with a mirror (the
 * fleet's Redis) each entry is also held there once acknowledged, and
 * another pod writes what this one could not.
 */
export class SpendQueue {
  private pending: SpendRecord[] = [];
  /** Pending entries the mirror holds too (the fleet counts them from there). */
  private mirrored = new Set<SpendRecord>();
  /** Pending entries the mirror could not hold yet. */
  private unheld = new Set<SpendRecord>();
  /** Entries already written (a mirror's late "held" must not count them as pending). */
  private written = new WeakSet<SpendRecord>();
  /** Σ cost of the pending entries per scope ("key:<token>", "team:<id>", "user:<id>"): budget checks are per request, so no scans. */
  private pendingSums: Sums = { all: new Map(), mirrored: new Map() };
  /** Written batches, with the writer position and the time after them: counted for reads that may predate them. */
  private recent: Array<{ lsn: bigint | undefined; at: number; sums: Sums }> = [];
  private failures = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly write: SpendWriter,
    private readonly options: SpendQueueOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get length(): number {
    return this.pending.length;
  }

  /** Age of the oldest unwritten entry, ms (0 when empty). */
  oldestAgeMs(): number {
    const oldest = this.pending[0];
    return oldest ? Math.max(0, this.now() - oldest.endTime.getTime()) : 0;
  }

  /**
   * Spend recorded on this pod for a scope ("key:<token>", "team:<id>",
   * "user:<id>") that a read of its spend would not include: queued, or
   * written after the read. For a read made earlier (`snapshot`: a cached
   * key), "after" is by WAL position (the replica's before the read) or, with
   * no replica, by time; for a read made now, by what the replica has
   * replayed (nothing, with no replica: reads are on the writer).
   */
  unwritten(scope: string, snapshot?: Snapshot): number {
    return this.unwrittenParts(scope, snapshot).all;
  }

  /** `unwritten`, and the part of it the mirror holds as well (a fleet-wide count already includes that), in one pass. */
  unwrittenParts(scope: string, snapshot?: Snapshot): { all: number; mirrored: number } {
    const replayed = this.options.replayed?.();
    const now = this.now();
    const retain = this.options.retainMs ?? 0;
    this.recent = this.recent.filter((r) => (r.lsn !== undefined && replayed !== undefined && r.lsn > replayed) || now - r.at < retain);
    let all = this.pendingSums.all.get(scope) ?? 0;
    let mirrored = this.pendingSums.mirrored.get(scope) ?? 0;
    for (const batch of this.recent) {
      const after = snapshot
        ? snapshot.lsn !== undefined && batch.lsn !== undefined
          ? batch.lsn > snapshot.lsn
          : batch.at >= snapshot.at
        : batch.lsn !== undefined && replayed !== undefined && batch.lsn > replayed;
      if (!after) continue;
      all += batch.sums.all.get(scope) ?? 0;
      mirrored += batch.sums.mirrored.get(scope) ?? 0;
    }
    return { all, mirrored };
  }

  enqueue(entry: SpendRecord): void {
    if (this.pending.length >= this.options.maxQueued) {
      this.options.onDrop?.();
      this.options.log.error(
        { requestId: entry.requestId, queued: this.pending.length },
        "spend queue full (the writer has been unreachable for long); this request's spend is lost",
      );
      return;
    }
    this.pending.push(entry);
    addSums(this.pendingSums.all, entry);
    this.hold(entry, false);
  }

  private hold(entry: SpendRecord, again: boolean): void {
    const mirror = this.options.mirror;
    if (!mirror) return;
    void mirror.hold(entry, again).then((held) => {
      if (!held) {
        this.unheld.add(entry);
        return;
      }
      this.unheld.delete(entry);
      // Written already (a fast flush): the batch was counted as this pod's alone, which only errs high.
      if (this.written.has(entry) || this.mirrored.has(entry)) return;
      this.mirrored.add(entry);
      addSums(this.pendingSums.mirrored, entry);
    });
  }

  /**
   * Entries whose hold failed (Redis was away) are held again while they wait to be written:
   * once Redis answers, the fleet counts what this pod spent alone.
   */
  private holdAgain(): void {
    for (const entry of this.unheld) {
      this.unheld.delete(entry);
      if (!this.written.has(entry)) this.hold(entry, true);
    }
  }

  start(): void {
    const tick = (delayMs: number) => {
      this.timer = setTimeout(() => {
        this.holdAgain();
        void this.flush().finally(() => {
          if (!this.stopped) tick(this.backlogged() ? 0 : this.options.intervalMs);
        });
      }, delayMs);
      this.timer.unref();
    };
    tick(this.options.intervalMs);
  }

  /**
   * More than one batch waits and the writer is taking them: the next flush
   * goes at once. One batch per interval would cap a pod at maxBatch
   * completions per interval, and the queue would grow without end above it.
   */
  private backlogged(): boolean {
    return this.pending.length >= this.options.maxBatch && this.failures === 0;
  }

  /** One flush now, unless one is running or the backoff after a failure has not passed. */
  flush(): Promise<void> {
    if (this.pending.length === 0 || this.now() < this.retryAt) return Promise.resolve();
    return (this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined)));
  }

  /** Stops the timer and writes what is left, trying until `timeoutMs` has passed. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const deadline = this.now() + timeoutMs;
    while (this.pending.length > 0 && this.now() < deadline) {
      this.retryAt = 0;
      await this.flush();
      if (this.pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - this.now()))));
    }
    const held = this.mirrored.size;
    if (held > 0)
      this.options.log.warn({ unwritten: held }, "shutdown: spend not written before the timeout is held in Redis; another pod writes it");
    if (this.pending.length > held) {
      this.options.log.error(
        { unwritten: this.pending.length - held },
        "shutdown: spend could not be written before the timeout and is lost",
      );
    }
  }

  private async flushOnce(): Promise<void> {
    const batch = this.pending.slice(0, this.options.maxBatch);
    try {
      const lsn = await this.write(batch);
      this.pending.splice(0, batch.length);
      this.pendingSums = sumsOf(this.pending, this.mirrored);
      const sums = sumsOf(batch, this.mirrored);
      for (const entry of batch) {
        this.mirrored.delete(entry);
        this.unheld.delete(entry);
        this.written.add(entry);
      }
      this.recent.push({ lsn: this.options.replayed ? lsn : undefined, at: this.now(), sums });
      this.options.mirror?.written(batch, lsn);
      if (this.failures > 0) this.options.log.info({ after: this.failures }, "spend written again after failures");
      this.failures = 0;
      this.retryAt = 0;
    } catch (error) {
      this.failures++;
      // 0.5 s, 1 s, 2 s … capped at 10 s: quick to catch a short blip, gentle on a writer that is down.
      this.retryAt = this.now() + Math.min(10_000, 500 * 2 ** (this.failures - 1));
      this.options.onFlushFailure?.();
      this.options.log.warn({ err: error, queued: this.pending.length, attempt: this.failures }, "spend flush failed; will retry");
    }
  }
}

/** When a read of spend was made: the replica's replay position before it (if any), and the time. */
export interface Snapshot {
  lsn?: bigint;
  at: number;
}

/** The budget scopes one spend entry counts against. */
export function spendScopes(
  entry: Pick<SpendRecord, "token" | "keyed" | "teamId" | "organizationId" | "userId" | "proxyBudgetUser" | "endUser">,
): string[] {
  return [
    ...(entry.keyed ? [`key:${entry.token}`] : []),
    ...(entry.teamId ? [`team:${entry.teamId}`] : []),
    ...(entry.organizationId ? [`organization:${entry.organizationId}`] : []),
    ...(entry.userId ? [`user:${entry.userId}`] : []),
    ...(entry.userId && entry.teamId ? [`member:${entry.teamId}:${entry.userId}`] : []),
    ...(entry.endUser ? [`end_user:${entry.endUser}`] : []),
    ...(entry.proxyBudgetUser && entry.proxyBudgetUser !== entry.userId ? [`user:${entry.proxyBudgetUser}`] : []),
  ];
}

/** Σ cost per scope of some entries, and of those among them the mirror holds. */
interface Sums {
  all: Map<string, number>;
  mirrored: Map<string, number>;
}

function sumsOf(entries: readonly SpendRecord[], mirrored: ReadonlySet<SpendRecord>): Sums {
  const sums: Sums = { all: new Map(), mirrored: new Map() };
  for (const entry of entries) {
    addSums(sums.all, entry);
    if (mirrored.has(entry)) addSums(sums.mirrored, entry);
  }
  return sums;
}

function addSums(sums: Map<string, number>, entry: SpendRecord): void {
  for (const scope of spendScopes(entry)) sums.set(scope, (sums.get(scope) ?? 0) + entry.cost);
}
