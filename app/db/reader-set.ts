import type { Logger } from "../observability/logger.js";
import type { Endpoint } from "./endpoint.js";
import { LSN_MAX, maxLsn, type Lsn } from "./lsn.js";
import type { FallbackReason } from "./read-router.js";
import { ReaderState, type ReaderStatus } from "./reader-state.js";

/** A reader that is not a standby (a replica promoted, or a primary given as a reader) is never behind. */
export const NEVER_BEHIND: Lsn = LSN_MAX;

/** One read replica: its endpoint, its state, and what the health cycle last measured of it. */
export class ReaderMember {
  /** Replay position at the last successful probe (NEVER_BEHIND for a primary); undefined until one succeeds. */
  replay: Lsn | undefined;
  /** Lag at the last successful probe; undefined while unreachable. */
  lagMs: number | undefined;
  /** Reads running on it now: the balancer sends the next read to the member with the fewest. */
  outstanding = 0;

  constructor(
    readonly endpoint: Endpoint,
    readonly state: ReaderState,
  ) {}

  get name(): string {
    return this.endpoint.name;
  }
}

export type ReaderChoice =
  { member: ReaderMember } | { reason: Extract<FallbackReason, "reader-degraded" | "reader-lagging" | "read-your-writes" | "reader-busy"> };

export interface ReaderSetEvents {
  onChange?: (member: ReaderMember, status: ReaderStatus, previous: ReaderStatus) => void;
}

/**
 * The read replicas as one pool of capacity: which members are usable, how
 * far each has replayed, and which one the next read goes to — the usable
 * member that has replayed what the read needs, is not saturated and has the
 * fewest reads in flight (ties taken in turn). Whether a read goes to a
 * reader at all, and what happens when it fails there, is the read router's.
 */
export class ReaderSet {
  readonly members: readonly ReaderMember[];
  /** Write positions forgotten as replayed (see `forgetUpTo`): no member below this serves reads. */
  private floor: Lsn | undefined;
  private turn = 0;

  constructor(endpoints: readonly Endpoint[], log: Logger, events: ReaderSetEvents = {}) {
    this.members = endpoints.map((endpoint) => {
      let member: ReaderMember | undefined = undefined;
      const state = new ReaderState(
        true,
        log,
        { onChange: (status, previous) => member && events.onChange?.(member, status, previous) },
        endpoint.name,
      );
      member = new ReaderMember(endpoint, state);
      return member;
    });
  }

  get configured(): boolean {
    return this.members.length > 0;
  }

  /** Overall: connected while any member serves reads; else lagging if any is only behind; degraded when none answers. */
  get status(): ReaderStatus {
    if (this.members.length === 0) return "disabled";
    const statuses = this.members.map((m) => m.state.status);
    if (statuses.includes("connected")) return "connected";
    return statuses.includes("lagging") ? "lagging" : "degraded";
  }

  get usable(): boolean {
    return this.members.some((m) => m.state.usable);
  }

  /** The smallest lag among members measured (how fresh the best reader is); undefined when none is reachable. */
  get lagMs(): number | undefined {
    const lags = this.members.flatMap((m) => (m.lagMs === undefined ? [] : [m.lagMs]));
    return lags.length === 0 ? undefined : Math.min(...lags);
  }

  /**
   * What every usable member has replayed (the lowest of their positions):
   * a read sent to any of them sees every write before it. Undefined when no
   * member is usable.
   */
  get replayed(): Lsn | undefined {
    let low: Lsn | undefined;
    for (const m of this.members) {
      if (!m.state.usable || m.replay === undefined) continue;
      if (low === undefined || m.replay < low) low = m.replay;
    }
    return low;
  }

  /**
   * Write positions up to `lsn` (what every usable member has replayed) may
   * be forgotten: from now on no member behind `lsn` — one coming back from
   * an outage, say — serves a read until it has caught up that far. Only a
   * standby's position counts: "a promoted reader has everything" must not
   * forget what standbys still lack. Returns whether the caller may forget.
   */
  forgetUpTo(lsn: Lsn): boolean {
    if (lsn >= NEVER_BEHIND) return false;
    this.floor = maxLsn(this.floor, lsn);
    return true;
  }

  choose(needed: Lsn | undefined): ReaderChoice {
    const atLeast = maxLsn(needed, this.floor);
    const count = this.members.length;
    const start = count === 0 ? 0 : this.turn++ % count;
    let best: ReaderMember | undefined;
    let usable = false;
    let caughtUp = false;
    for (let i = 0; i < count; i++) {
      const member = this.members[(start + i) % count]!;
      if (!member.state.usable) continue;
      usable = true;
      if (atLeast !== undefined && !(member.replay !== undefined && member.replay >= atLeast)) continue;
      caughtUp = true;
      if (member.endpoint.saturated()) continue;
      if (best === undefined || member.outstanding < best.outstanding) best = member;
    }
    if (best) return { member: best };
    if (!usable) return { reason: this.members.some((m) => m.state.status === "lagging") ? "reader-lagging" : "reader-degraded" };
    return { reason: caughtUp ? "reader-busy" : "read-your-writes" };
  }
}
