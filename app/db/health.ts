import { performance } from "node:perf_hooks";
import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";
import { ProbeSkipped, type Endpoint } from "./endpoint.js";
import { parseLsn, type Lsn } from "./lsn.js";
import type { ReaderAddress } from "./reader-address.js";
import type { ReaderMember, ReaderSet } from "./reader-set.js";
import type { DegradedBy } from "./reader-state.js";
import type { InstanceSample } from "./instance-identity.js";

/**
 * connected: a primary that takes writes. read-only: the writer address
 * reached a server in recovery (a failover under way: the old primary
 * demoted, or DNS still naming a standby); writes answer 503 meanwhile.
 * disconnected: unreachable.
 */
export type WriterStatus = "connected" | "read-only" | "disconnected";

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

/** Health cycles in a row an instance may go unreached through its answering address before it counts as unreachable. */
const MISSED_ROUNDS_UNREACHABLE = 2;

/** What the health cycle probes for readers: the addresses, and the targets discovery found behind them. */
export interface ReaderAddresses {
  readonly addresses: readonly ReaderAddress[];
  /** Looks again at what is behind each address (discovery); before each round of probes. */
  refresh(): Promise<void>;
}

export interface HealthOptions {
  intervalMs: number;
  maxLagMs: number;
  probeTimeoutMs: number;
  log: Logger;
  now?: () => number;
  /** Runs after every cycle (the write positions the readers have replayed are forgotten). */
  afterCycle?: () => void;
  /**
   * The writer's pooled connections must go: the writer address reached a
   * standby (probe or refused write), or a primary again after that (the
   * pool may still hold connections to the standby).
   */
  onWriterSuspect?: () => void;
}

const WRITER_PROBE =
  "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_insert_lsn()::text END AS lsn, pg_is_in_recovery() AS standby";

/**
 * The one place that knows how the endpoints are doing: every interval it
 * probes the writer and each reader address on fresh connections
 * (reachability, whether the writer is really a primary, its WAL position,
 * which instances answer behind each reader address, and each instance's
 * replay position and lag) and owns their states. Readiness, metrics and the
 * read router only read what it last saw.
 */
export class HealthMonitor {
  private writer: WriterStatus = "disconnected";
  private samples: WriterSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly writerEndpoint: Endpoint,
    readonly readers: ReaderSet,
    private readonly topology: ReaderAddresses,
    private readonly options: HealthOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get writerStatus(): WriterStatus {
    return this.writer;
  }

  /** The best reader's lag as last measured (undefined while none is reachable, or none is configured). */
  get readerLagMs(): number | undefined {
    return this.readers.lagMs;
  }

  /** What every usable reader had replayed at the last cycle; a read needing more goes to the writer. */
  get readerPosition(): Lsn | undefined {
    return this.readers.replayed;
  }

  /**
   * The writer's WAL position one cycle before the last (the last one while
   * there is only one): what a reader replaying normally has had a whole
   * interval to receive.
   */
  get settledWriterPosition(): Lsn | undefined {
    return (this.samples.at(-2) ?? this.samples.at(-1))?.lsn;
  }

  /** The writer's last WAL sample, with when it was taken. */
  get latestWriterSample(): WriterSample | undefined {
    return this.samples.at(-1);
  }

  async checkWriter(): Promise<WriterStatus> {
    // The position is read during the probe: stamp it with when the probe was sent, never later,
    // so a write settled by this sample (recordUnsettled) committed before it.
    const sentAt = this.now();
    try {
      const row = await this.writerEndpoint.probe<{ lsn: string | null; standby: boolean }>(this.options.probeTimeoutMs, WRITER_PROBE);
      if (row?.standby) {
        this.writerReadOnly("the health probe found the writer address on a server in recovery");
      } else {
        const lsn = row?.lsn ? parseLsn(row.lsn) : undefined;
        if (lsn !== undefined) this.remember({ at: sentAt, lsn });
        if (this.writer !== "connected") this.options.log.info({ endpoint: this.writerEndpoint.description }, "writer DB connected");
        if (this.writer === "read-only") this.options.onWriterSuspect?.();
        this.writer = "connected";
      }
    } catch (error) {
      if (error instanceof ProbeSkipped) return this.writer;
      if (this.writer !== "disconnected") this.options.log.error({ err: error }, `writer DB unreachable: ${message(error)}`);
      this.writer = "disconnected";
    }
    return this.writer;
  }

  /**
   * The writer address reached a standby (a failover: the old primary
   * demoted, or DNS not yet moved). Its pooled connections are dropped, so
   * the next ones resolve the address again and find the new primary; the
   * health cycle keeps doing that every interval until one is reached.
   */
  writerReadOnly(why: string): void {
    if (this.writer !== "read-only") {
      this.options.log.error(
        { endpoint: this.writerEndpoint.description },
        `writer DB is read-only (${why}); writes answer 503 and spend stays queued until a primary is reached`,
      );
    }
    this.writer = "read-only";
    this.options.onWriterSuspect?.();
  }

  /**
   * Looks again at what is behind each address (discovery), then probes each.
   * One check at a time: a cycle and a re-measurement share the one running,
   * so a discovery refresh never retires an address a round is still probing.
   */
  checkReaders(where: Extract<DegradedBy, "start" | "health-check">): Promise<void> {
    return (this.checking ??= this.probeReaders(where, true).finally(() => (this.checking = undefined)));
  }

  /** The readers' replay positions now, for reads that would otherwise wait for the next cycle (no discovery: only the probes). */
  remeasureReaders(): Promise<void> {
    return (this.checking ??= this.probeReaders("health-check", false).finally(() => (this.checking = undefined)));
  }

  private async probeReaders(where: Extract<DegradedBy, "start" | "health-check">, refresh: boolean): Promise<void> {
    if (refresh) await this.topology.refresh();
    await Promise.all(this.topology.addresses.map((address) => this.checkAddress(address, where)));
  }

  private async checkAddress(address: ReaderAddress, where: Extract<DegradedBy, "start" | "health-check">): Promise<void> {
    const started = Date.now();
    const startedMono = performance.now();
    let round;
    try {
      round = await address.round(this.options.probeTimeoutMs);
    } catch (error) {
      if (error instanceof ProbeSkipped) return;
      throw error;
    }
    const now = this.now();
    if (round.failure !== undefined) {
      address.state.markDegraded(round.failure, where);
      for (const member of address.members) {
        member.lagMs = undefined;
        member.state.markDegraded(round.failure, where);
      }
    } else {
      address.state.markReachable(0, Infinity);
      for (const { member, sample, roundTripMs } of round.seen) {
        // Answered before a read found it unusable: that answer is older news than the failure.
        if (member.state.status === "degraded" && member.state.changedAt >= startedMono) continue;
        member.seenAt = now;
        member.missedRounds = 0;
        member.noteRoundTrip(roundTripMs);
        this.measure(member, sample, started);
      }
      // Not reached this cycle (every connection went to other instances): its last replay
      // position still bounds its lag from below, so the lag is measured from it and can only
      // grow. Missed twice in a row while the address answered — a balancer at random misses a
      // live one for a whole round rarely, twice almost never — it is taken as unreachable: a
      // hung instance that no read happens to reach (a far one, say) is ejected all the same.
      for (const member of round.unseen) {
        member.missedRounds++;
        if (member.missedRounds >= MISSED_ROUNDS_UNREACHABLE) {
          member.lagMs = undefined;
          member.state.markDegraded(new Error(`not reached through ${address.name} in ${member.missedRounds} health cycles`), where);
        } else {
          this.measure(member);
        }
      }
    }
    address.forgetGone(now);
  }

  private measure(member: ReaderMember, sample?: InstanceSample, sentAt = 0): void {
    // The probe's answer stands (a restarted standby's position goes back), unless an on-demand
    // check asked after this probe was sent.
    if (sample) member.noteReplay(sample, member.replayCheckedAt > sentAt);
    if (member.replay === undefined) return;
    // Without a writer sample (writer down) the lag can't be known; keep the last figure.
    if (this.samples.length > 0) member.lagMs = lagMs(this.samples, member.replay, this.now());
    if (sample || member.state.status !== "degraded") member.state.markReachable(member.lagMs ?? 0, this.options.maxLagMs);
  }

  /** One cycle: the writer first, so "a reader has replayed the writer's sample" means caught up as of this cycle. */
  async runCycle(): Promise<void> {
    await this.checkWriter();
    await this.checkReaders("health-check");
    this.options.afterCycle?.();
  }

  start(): void {
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.running = this.runCycle().finally(() => {
          this.running = undefined;
          if (!this.stopped) schedule();
        });
      }, this.options.intervalMs);
      this.timer.unref();
    };
    schedule();
  }

  /** Stops the cycle; resolves once a cycle already running has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
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
