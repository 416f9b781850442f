import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";
import type { Endpoint } from "./endpoint.js";
import { parseLsn, type Lsn } from "./lsn.js";
import type { DegradedBy, ReaderState } from "./reader-state.js";

export type WriterStatus = "connected" | "disconnected";

/** A reader that is not a standby (a single database given twice) is never behind. */
export const NEVER_BEHIND: Lsn = 0xffff_ffff_ffff_ffffn;

export interface WriterSample {
  at: number;
  lsn: Lsn;
}

/**
 * How far behind the writer a reader is, in milliseconds, from the writer's
 * WAL positions sampled by the health cycle (oldest first) and the reader's
 * replay position. The lag is the age of the oldest writer position the
 * reader has not replayed: an idle writer never counts as lag, and a reader
 * whose replay is paused falls behind from the first write it misses. The
 * resolution is one health interval.
 */
export function lagMs(samples: readonly WriterSample[], replay: Lsn, now: number): number {
  const first = samples.find((s) => s.lsn > replay);
  return first === undefined ? 0 : Math.max(0, now - first.at);
}

export interface HealthOptions {
  intervalMs: number;
  maxLagMs: number;
  probeTimeoutMs: number;
  log: Logger;
  now?: () => number;
  /** Runs after every cycle (the write positions the reader has replayed are forgotten). */
  afterCycle?: () => void;
}

const WRITER_PROBE =
  "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_insert_lsn()::text END AS lsn, pg_is_in_recovery() AS standby";
const READER_PROBE = "SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay";

/**
 * The one place that knows how both endpoints are doing: it probes each on a
 * fresh connection every interval (reachability, the writer's WAL position,
 * the reader's replay position and lag) and owns their states. Readiness,
 * metrics and the read router only read what it last saw.
 */
export class HealthMonitor {
  private writer: WriterStatus = "disconnected";
  private samples: WriterSample[] = [];
  private replay: Lsn | undefined;
  private lag: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly writerEndpoint: Endpoint,
    private readonly readerEndpoint: Endpoint | undefined,
    readonly reader: ReaderState,
    private readonly options: HealthOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get writerStatus(): WriterStatus {
    return this.writer;
  }

  /** The reader's lag as last measured (undefined while it is unreachable or absent). */
  get readerLagMs(): number | undefined {
    return this.lag;
  }

  /** The reader's replay position as last measured; a read needing more goes to the writer. */
  get readerPosition(): Lsn | undefined {
    return this.reader.usable ? this.replay : undefined;
  }

  /**
   * The writer's WAL position one cycle before the last (the last one while
   * there is only one): what a reader replaying normally has had a whole
   * interval to receive.
   */
  get settledWriterPosition(): Lsn | undefined {
    return (this.samples.at(-2) ?? this.samples.at(-1))?.lsn;
  }

  async checkWriter(): Promise<WriterStatus> {
    try {
      const row = await this.writerEndpoint.probe<{ lsn: string | null }>(this.options.probeTimeoutMs, WRITER_PROBE);
      const lsn = row?.lsn ? parseLsn(row.lsn) : undefined;
      if (lsn !== undefined) this.remember({ at: this.now(), lsn });
      if (this.writer !== "connected") this.options.log.info({ endpoint: this.writerEndpoint.description }, "writer DB connected");
      this.writer = "connected";
    } catch (error) {
      if (this.writer !== "disconnected") this.options.log.error({ err: error }, `writer DB unreachable: ${message(error)}`);
      this.writer = "disconnected";
    }
    return this.writer;
  }

  async checkReader(where: Extract<DegradedBy, "start" | "health-check">): Promise<void> {
    if (!this.readerEndpoint) return;
    try {
      const row = await this.readerEndpoint.probe<{ standby: boolean; replay: string | null }>(this.options.probeTimeoutMs, READER_PROBE);
      this.replay = row?.standby ? (parseLsn(row.replay ?? "") ?? 0n) : NEVER_BEHIND;
      // Without a writer sample (writer down) the lag can't be known; keep the last figure.
      if (this.samples.length > 0) this.lag = lagMs(this.samples, this.replay, this.now());
      this.reader.markReachable(this.lag ?? 0, this.options.maxLagMs);
    } catch (error) {
      this.lag = undefined;
      this.reader.markDegraded(error, where);
    }
  }

  /** One cycle: the writer first, so "the reader has replayed the writer's sample" means caught up as of this cycle. */
  async runCycle(): Promise<void> {
    await this.checkWriter();
    await this.checkReader("health-check");
    this.options.afterCycle?.();
  }

  start(): void {
    const schedule = () => {
      this.timer = setTimeout(() => {
        void this.runCycle().finally(() => {
          if (!this.stopped) schedule();
        });
      }, this.options.intervalMs);
      this.timer.unref();
    };
    schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private remember(sample: WriterSample): void {
    this.samples.push(sample);
    // Enough history to tell any lag up to the bound (and a little past it) apart.
    const keepFrom = sample.at - (this.options.maxLagMs + 3 * this.options.intervalMs);
    while (this.samples.length > 2 && (this.samples[1]?.at ?? Infinity) <= keepFrom) this.samples.shift();
  }
}

function message(error: unknown): string {
  return scrub(error instanceof Error ? error.message : String(error));
}
