import type { Logger } from "../observability/logger.js";
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
 * flushes what is left. What a SIGKILL loses is at most one flush
 * interval's worth plus whatever an outage had queued.
 */
export class SpendQueue {
  private pending: SpendRecord[] = [];
  /** Written, but maybe not yet on the replica budget checks read: still counted until it is. */
  private recent: Array<{ lsn: bigint; records: readonly SpendRecord[] }> = [];
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
   * Spend recorded on this pod that a budget check reading the replica would
   * not see yet — queued, or written but not yet replayed — for a key (hashed
   * token) or a team.
   */
  unwritten(by: { token?: string; teamId?: string | null }): number {
    const replayed = this.options.replayed?.();
    this.recent = replayed === undefined ? [] : this.recent.filter((r) => r.lsn > replayed);
    let sum = 0;
    const add = (entry: SpendRecord) => {
      if ((by.token !== undefined && entry.token === by.token) || (by.teamId && entry.teamId === by.teamId)) sum += entry.cost;
    };
    for (const entry of this.pending) add(entry);
    for (const { records } of this.recent) for (const entry of records) add(entry);
    return sum;
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
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.flush().finally(() => {
          if (!this.stopped) tick();
        });
      }, this.options.intervalMs);
      this.timer.unref();
    };
    tick();
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
    if (this.pending.length > 0) {
      this.options.log.error({ unwritten: this.pending.length }, "shutdown: spend could not be written before the timeout and is lost");
    }
  }

  private async flushOnce(): Promise<void> {
    const batch = this.pending.slice(0, this.options.maxBatch);
    try {
      const lsn = await this.write(batch);
      this.pending.splice(0, batch.length);
      if (lsn !== undefined && this.options.replayed) this.recent.push({ lsn, records: batch });
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
