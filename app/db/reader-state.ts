import { performance } from "node:perf_hooks";
import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";

/**
 * connected: reads go to the reader. lagging: reachable but further behind
 * the writer than the staleness bound, so reads go to the writer. degraded:
 * unreachable, hung or failing. disabled: no reader configured.
 */
export type ReaderStatus = "connected" | "lagging" | "degraded" | "disabled";

export type DegradedBy = "start" | "query" | "timeout" | "health-check";

export interface ReaderStateEvents {
  onChange?: (status: ReaderStatus, previous: ReaderStatus) => void;
}

/**
 * Whether reads go to the reader. It is the single place that changes the
 * reader's status, so each warning is logged once per episode however many
 * requests notice it, and recovery is logged once too.
 */
export class ReaderState {
  private current: ReaderStatus;

  /** `name` (host:port) goes on every line, so with several readers the log says which one. */
  constructor(
    enabled: boolean,
    log: Logger,
    private readonly events: ReaderStateEvents = {},
    name?: string,
  ) {
    this.current = enabled ? "connected" : "disabled";
    this.log = name ? log.child({ reader: name }) : log;
  }

  private readonly log: Logger;

  get status(): ReaderStatus {
    return this.current;
  }

  /** When the status last changed (performance.now()): a probe sent before a reader was found unusable says nothing of it now. */
  changedAt = 0;

  get usable(): boolean {
    return this.current === "connected";
  }

  /** At start, the contract's exact warning; later, a shorter one naming where it was noticed. */
  markDegraded(error: unknown, where: DegradedBy): void {
    if (this.current === "degraded" || this.current === "disabled") return;
    const reason = scrub(error instanceof Error ? error.message : String(error));
    if (where === "start") {
      this.log.warn(`Failed to connect to read replica DB: ${reason}. Falling back to the writer for reads until the reader is reachable.`);
    } else {
      this.log.warn(
        { detectedBy: where },
        `Read replica DB unusable (${reason}). Falling back to the writer for reads until the reader is reachable.`,
      );
    }
    this.set("degraded");
  }

  /** A successful probe: connected, or lagging when it is further behind than the bound. */
  markReachable(lagMs: number, maxLagMs: number): void {
    if (this.current === "disabled") return;
    const next: ReaderStatus = lagMs > maxLagMs ? "lagging" : "connected";
    if (next === this.current) return;
    if (next === "lagging") {
      this.log.warn(
        { lagMs, maxLagMs },
        `Read replica DB is ${lagMs} ms behind the writer (bound ${maxLagMs} ms); reads go to the writer until it catches up.`,
      );
    } else {
      this.log.info({ lagMs }, "Read replica DB usable again; reads go back to the reader.");
    }
    this.set(next);
  }

  private set(status: ReaderStatus): void {
    const previous = this.current;
    this.current = status;
    this.changedAt = performance.now();
    this.events.onChange?.(status, previous);
  }
}
