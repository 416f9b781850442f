import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";

export type ReaderStatus = "connected" | "degraded" | "disabled";

export interface ReaderStateEvents {
  onChange?: (status: ReaderStatus) => void;
}

/**
 * Whether reads go to the reader. It is the single place that flips between
 * connected and degraded, so the warning is logged once per outage however
 * many requests notice it, and recovery is logged once too.
 */
export class ReaderState {
  private current: ReaderStatus;

  constructor(
    enabled: boolean,
    private readonly log: Logger,
    private readonly events: ReaderStateEvents = {},
  ) {
    this.current = enabled ? "connected" : "disabled";
  }

  get status(): ReaderStatus {
    return this.current;
  }

  get usable(): boolean {
    return this.current === "connected";
  }

  /** At start, the contract's exact warning; later, a shorter one naming where it was noticed. */
  markDegraded(error: unknown, where: "start" | "query" | "health-check"): void {
    if (this.current !== "connected") return;
    const reason = scrub(error instanceof Error ? error.message : String(error));
    if (where === "start") {
      this.log.warn(`Failed to connect to read replica DB: ${reason}. Falling back to the writer for reads until the reader is reachable.`);
    } else {
      this.log.warn(
        { detectedBy: where },
        `Read replica DB unreachable (${reason}). Falling back to the writer for reads until the reader is reachable.`,
      );
    }
    this.set("degraded");
  }

  markHealthy(): void {
    if (this.current !== "degraded") return;
    this.log.info("Read replica DB reachable again; reads go back to the reader.");
    this.set("connected");
  }

  private set(status: ReaderStatus): void {
    this.current = status;
    this.events.onChange?.(status);
  }
}
