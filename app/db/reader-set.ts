import type { Logger } from "../observability/logger.js";
import type { Endpoint } from "./endpoint.js";
import { LSN_MAX, maxLsn, type Lsn } from "./lsn.js";
import type { FallbackReason } from "./read-router.js";
import { ReaderState, type ReaderStatus } from "./reader-state.js";
import { isNear, RoundTrips } from "./locality.js";

/** A reader that is not a standby (a replica promoted, or a primary given as a reader) is never behind. */
export const NEVER_BEHIND: Lsn = LSN_MAX;

/**
 * How an instance became a member: `address` — a connection through an
 * address of DATABASE_URL_READ_REPLICA reached it (the only one behind a
 * plain address; one of several behind a Service or a balancer); or the
 * discovery source that named it.
 */
export type FoundBy = "address" | "dns" | "kubernetes" | "aurora";

/** Where an instance was found, and what the platform said of it. */
export interface MemberOrigin {
  address: string;
  foundBy?: FoundBy;
  via?: string;
  zone?: string;
  label?: string;
  rank?: number;
}

/**
 * One read replica instance: its endpoint (a pool whose connections are
 * verified to reach this instance), its state, and what the health cycle
 * and on-demand checks last measured of it.
 */
export class ReaderMember {
  /** Replay position last seen (NEVER_BEHIND for a primary); undefined until a probe succeeds. Goes back only when the standby restarted. */
  replay: Lsn | undefined;
  /** Lag at the last health cycle (from the last replay position seen); undefined while unreachable. */
  lagMs: number | undefined;
  /** Reads running on it now: the balancer sends the next read to the member with the fewest. */
  outstanding = 0;
  /** When a probe through its address last reached it. */
  seenAt = Date.now();
  /** Health cycles in a row whose probes through its address did not reach it. */
  missedRounds = 0;
  /** When an on-demand replay check last asked it (its answer may be fresher than the health cycle's). */
  replayCheckedAt = 0;
  private readonly roundTrips = new RoundTrips();

  /** The configured address it is behind (host:port). */
  readonly address: string;
  readonly foundBy: FoundBy;
  /** Where its connections go: the address itself, or the target a discovery source found. */
  readonly via: string;
  /** The zone the platform puts it in (a Kubernetes EndpointSlice's `zone`), when it says. */
  readonly zone?: string;
  /** How the platform names it (the pod behind an EndpointSlice endpoint, Aurora's instance), when it says. */
  readonly label?: string;
  /** Its address's place in DATABASE_URL_READ_REPLICA: members are listed in that order. */
  readonly rank: number;

  constructor(
    readonly endpoint: Endpoint,
    readonly state: ReaderState,
    origin: MemberOrigin = { address: endpoint.name },
  ) {
    this.address = origin.address;
    this.foundBy = origin.foundBy ?? "address";
    this.via = origin.via ?? origin.address;
    this.zone = origin.zone;
    this.label = origin.label;
    this.rank = origin.rank ?? Infinity;
  }

  /** The instance (host:port as the server sees it, or Aurora's instance id). */
  get name(): string {
    return this.endpoint.name;
  }

  /** The network distance to it: the shortest recent probe round trip (undefined until probed). */
  get roundTripMs(): number | undefined {
    return this.roundTrips.ms;
  }

  noteRoundTrip(ms: number): void {
    this.roundTrips.note(ms);
  }

  /**
   * How far it has replayed, as a probe or a check just read it. A server
   * that is not a standby (promoted, or a primary named as a reader) has
   * everything. A standby restarted replays again from its last
   * restartpoint, so its position can go back; `keepHigher` keeps what a
   * fresher look saw instead.
   */
  noteReplay(position: { standby: boolean; replay: Lsn | undefined }, keepHigher: boolean): void {
    if (!position.standby) {
      this.replay = NEVER_BEHIND;
      return;
    }
    const seen = position.replay ?? 0n;
    const before = this.replay === NEVER_BEHIND ? undefined : this.replay;
    this.replay = keepHigher ? (maxLsn(before, seen) ?? seen) : seen;
  }

  /**
   * What readiness and the admin UI show of it: never a URL or a credential.
   * `local`: near enough to share reads with the closest usable instance.
   */
  view(
    closestMs?: number,
    localZone?: string,
  ): {
    state: ReaderStatus;
    lag_ms?: number;
    rtt_ms?: number;
    zone?: string;
    /** The pod it is (Kubernetes discovery). */
    pod?: string;
    local: boolean;
    address: string;
    found_by: FoundBy;
  } {
    const lag = this.lagMs === undefined ? {} : { lag_ms: this.lagMs };
    const rtt = this.roundTripMs === undefined ? {} : { rtt_ms: Math.round(this.roundTripMs * 100) / 100 };
    const zone = this.zone === undefined ? {} : { zone: this.zone };
    const named = this.label === undefined || this.foundBy !== "kubernetes" ? {} : { pod: this.label };
    const local = localZone !== undefined && this.zone !== undefined ? this.zone === localZone : isNear(this.roundTripMs, closestMs);
    return { state: this.state.status, ...lag, ...rtt, ...zone, ...named, local, address: this.address, found_by: this.foundBy };
  }
}

export type ReaderChoice =
  { member: ReaderMember } | { reason: Extract<FallbackReason, "reader-degraded" | "reader-lagging" | "read-your-writes" | "reader-busy"> };

export interface ReaderSetEvents {
  onChange?: (member: ReaderMember, status: ReaderStatus, previous: ReaderStatus) => void;
  /** An instance joined (found behind an address) or left (gone from it). */
  onMembership?: (member: ReaderMember, change: "joined" | "left") => void;
}

/**
 * The read replicas as one pool of capacity: which members are usable, how
 * far each has replayed, and which one the next read goes to — the usable
 * member that has replayed what the read needs, is not saturated and has the
 * fewest reads in flight (ties taken in turn). Whether a read goes to a
 * reader at all, and what happens when it fails there, is the read router's.
 */
export class ReaderSet {
  private list: ReaderMember[] = [];
  /** Write positions forgotten as replayed (see `forgetUpTo`): no member below this serves reads. */
  private floor: Lsn | undefined;
  private turn = 0;

  /**
   * `addresses`: how many reader addresses are configured. The members are
   * the instances found behind them so far; an address with none found yet
   * (unreachable since start) makes the set degraded, not disabled.
   */
  constructor(
    private readonly log: Logger,
    private readonly events: ReaderSetEvents = {},
    private readonly addresses = 0,
    /** This pod's zone (DATABASE_READ_REPLICA_ZONE): instances the platform puts in it come first. */
    readonly localZone?: string,
  ) {}

  /** A set with one member per endpoint, each its own instance (unit tests; fixed lists). */
  static of(endpoints: readonly Endpoint[], log: Logger, events: ReaderSetEvents = {}): ReaderSet {
    const set = new ReaderSet(log, events, endpoints.length);
    endpoints.forEach((endpoint, rank) => set.add(endpoint, { address: endpoint.name, rank }));
    return set;
  }

  /** The instances now, in the order they joined. */
  get members(): readonly ReaderMember[] {
    return this.list;
  }

  /**
   * A new instance: usable (connected) until its first measurement says
   * otherwise. Members are kept in the order of their addresses (`rank`),
   * then of joining, so listings follow DATABASE_URL_READ_REPLICA.
   */
  add(endpoint: Endpoint, origin: MemberOrigin = { address: endpoint.name }): ReaderMember {
    let member: ReaderMember | undefined = undefined;
    const state = new ReaderState(
      true,
      this.log,
      { onChange: (status, previous) => member && this.events.onChange?.(member, status, previous) },
      endpoint.name,
    );
    member = new ReaderMember(endpoint, state, origin);
    this.list = [...this.list, member].sort((a, b) => a.rank - b.rank);
    this.log.info(
      { reader: member.name, address: member.address, via: member.via, foundBy: member.foundBy },
      `read replica instance ${member.name} joined (behind ${member.address}, found by ${member.foundBy})`,
    );
    this.events.onMembership?.(member, "joined");
    return member;
  }

  /** An instance gone from behind its address: no new read picks it; reads on it now finish. */
  remove(member: ReaderMember): void {
    if (!this.list.includes(member)) return;
    this.list = this.list.filter((m) => m !== member);
    this.log.info(
      { reader: member.name, address: member.address },
      `read replica instance ${member.name} left (no longer reached behind ${member.address}); its reads in flight finish`,
    );
    this.events.onMembership?.(member, "left");
  }

  get configured(): boolean {
    return this.addresses > 0 || this.list.length > 0;
  }

  /** Overall: connected while any member serves reads; else lagging if any is only behind; degraded when none answers. */
  get status(): ReaderStatus {
    if (!this.configured) return "disabled";
    const statuses = this.list.map((m) => m.state.status);
    if (statuses.includes("connected")) return "connected";
    return statuses.includes("lagging") ? "lagging" : "degraded";
  }

  get usable(): boolean {
    return this.members.some((m) => m.state.usable);
  }

  /** The shortest round trip among usable members: what "near" is measured against. */
  get closestMs(): number | undefined {
    return closestRoundTrip(this.list.filter((m) => m.state.usable));
  }

  /** What readiness and the admin UI show of a member: near or far measured against the whole set. */
  view(member: ReaderMember): ReturnType<ReaderMember["view"]> {
    return member.view(this.closestMs, this.localZone);
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

  /**
   * The instance most likely to have replayed what a read needs, for asking it
   * (when `choose` found none known to): usable, not saturated, furthest
   * replayed, fewest reads in flight. `atLeast` is what it must have replayed.
   */
  candidate(needed: Lsn | undefined): { member: ReaderMember; atLeast: Lsn } | undefined {
    const atLeast = maxLsn(needed, this.floor);
    if (atLeast === undefined) return undefined;
    let best: ReaderMember | undefined;
    for (const member of this.list) {
      if (!member.state.usable || member.endpoint.saturated()) continue;
      const further = best === undefined || (member.replay ?? 0n) > (best.replay ?? 0n);
      const same = best !== undefined && (member.replay ?? 0n) === (best.replay ?? 0n);
      if (further || (same && member.outstanding < best!.outstanding)) best = member;
    }
    return best && { member: best, atLeast };
  }

  /**
   * Where the next read goes: among the usable members that have replayed
   * what it needs and are not saturated, those in this pod's zone when there
   * are any, then the near ones (see `isNear`, against the closest of them),
   * and of those the one with the fewest reads in flight, ties taken in turn.
   * Other zones and far members get reads only when none nearer can take them.
   */
  choose(needed: Lsn | undefined): ReaderChoice {
    const atLeast = maxLsn(needed, this.floor);
    const members = this.list;
    const count = members.length;
    const start = count === 0 ? 0 : this.turn++ % count;
    const eligible: ReaderMember[] = [];
    let usable = false;
    let caughtUp = false;
    for (let i = 0; i < count; i++) {
      const member = members[(start + i) % count]!;
      if (!member.state.usable) continue;
      usable = true;
      if (atLeast !== undefined && !(member.replay !== undefined && member.replay >= atLeast)) continue;
      caughtUp = true;
      if (member.endpoint.saturated()) continue;
      eligible.push(member);
    }
    // Same zone first, where both this pod's zone and the instance's are known; then the round trip.
    const zone = this.localZone;
    const inZone = zone === undefined ? [] : eligible.filter((m) => m.zone === zone);
    const pool = inZone.length > 0 ? inZone : eligible;
    const closest = closestRoundTrip(pool);
    let best: ReaderMember | undefined;
    for (const member of pool) {
      if (!isNear(member.roundTripMs, closest)) continue;
      if (best === undefined || member.outstanding < best.outstanding) best = member;
    }
    if (best) return { member: best };
    if (!usable) return { reason: members.some((m) => m.state.status === "lagging") ? "reader-lagging" : "reader-degraded" };
    return { reason: caughtUp ? "reader-busy" : "read-your-writes" };
  }
}

function closestRoundTrip(members: readonly ReaderMember[]): number | undefined {
  let closest: number | undefined;
  for (const m of members) if (m.roundTripMs !== undefined && (closest === undefined || m.roundTripMs < closest)) closest = m.roundTripMs;
  return closest;
}
