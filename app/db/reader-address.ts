import type { EndpointConfig } from "../config/db-endpoints.js";
import { connectionConfig, createEndpoint, probeTimed, ProbeSkipped, type EndpointOptions } from "./endpoint.js";
import { isAuthFailure } from "./connection-errors.js";
import { INSTANCE_PROBE_SQL, sampleOf, type InstanceRow, type InstanceSample } from "./instance-identity.js";
import type { FoundBy, ReaderMember, ReaderSet } from "./reader-set.js";
import { ReaderState } from "./reader-state.js";

/** What one probe round through an address found. */
export interface RoundResult {
  /** Each instance that answered, with its member (made for it if it is new) and the probe's shortest round trip to it. */
  seen: Array<{ member: ReaderMember; sample: InstanceSample; roundTripMs: number }>;
  /** Members behind this address that no connection of the round reached. */
  unseen: ReaderMember[];
  /** Set when no connection of the round got an answer: the address is unreachable. */
  failure?: unknown;
}

/**
 * One reader address as configured (a URL of DATABASE_URL_READ_REPLICA):
 * possibly one server, possibly a name in front of several (a Service, a
 * balancer, Aurora's reader endpoint). Each health cycle it opens a few
 * fresh connections through the address and asks each which instance it
 * reached; every instance found becomes a member of the reader set with a
 * pool of its own, whose connections are verified to reach it. An instance
 * no longer reached through the address leaves the set after `forgetAfterMs`.
 */
export class ReaderAddress {
  /** The address as a whole: unreachable at start or later (the contract's warnings), or answering. */
  readonly state: ReaderState;
  private retired = false;

  /**
   * `config` is where connections go: the configured address itself, or one
   * target a discovery source found behind it (`shown` is then the
   * configured address and `foundBy` the source). `tokens` are the
   * configured address's, shared by every target behind it and stopped by
   * their owner, the reader topology.
   */
  constructor(
    readonly config: EndpointConfig,
    private readonly readers: ReaderSet,
    private readonly options: EndpointOptions & {
      forgetAfterMs: number;
      rank: number;
      foundBy?: FoundBy;
      shown?: string;
      zone?: string;
      label?: string;
    },
  ) {
    this.state = new ReaderState(true, options.log, {}, config.name);
  }

  get name(): string {
    return this.config.name;
  }

  /** The instances found through this address (or target) that are still members. */
  get members(): ReaderMember[] {
    return this.readers.members.filter((m) => m.via === this.name);
  }

  /** Gone from behind its address (a discovery source no longer lists it): its instances leave now. */
  retire(): void {
    this.retired = true;
    for (const member of this.members) this.leave(member);
  }

  /**
   * Connections through the address until every known instance has answered
   * (and one more, to spot a newcomer), in parallel batches, at most
   * 3 × known + 3 connections.
   */
  async round(probeTimeoutMs: number): Promise<RoundResult> {
    const known = this.members;
    if (this.retired) return { seen: [], unseen: [] };
    const samples = new Map<string, { sample: InstanceSample; roundTripMs: number }>();
    const limit = 3 * known.length + 3;
    let opened = 0;
    let failure: unknown;
    let answered = false;
    let authRefused = false;
    while (opened < limit) {
      const missing = known.filter((m) => !samples.has(m.name)).length;
      const batch = Math.min(limit - opened, missing + 1);
      opened += batch;
      const results = await Promise.allSettled(Array.from({ length: batch }, () => this.probeOnce(probeTimeoutMs)));
      let batchAnswered = false;
      for (const result of results) {
        if (result.status === "fulfilled") {
          const found = result.value;
          const before = found && samples.get(found.sample.identity.id);
          if (found && !(before && before.roundTripMs <= found.roundTripMs)) samples.set(found.sample.identity.id, found);
          batchAnswered = true;
        } else {
          failure = result.reason;
          if (isAuthFailure(result.reason)) authRefused = true;
        }
      }
      answered ||= batchAnswered;
      // A batch without a single answer: more of the same would only wait as long again.
      if (!batchAnswered || known.every((m) => samples.has(m.name))) break;
    }
    // Credentials refused while a rotation propagates: the server is up; keep what is known.
    if (!answered && authRefused) throw new ProbeSkipped("credentials refused for new connections to the reader address");
    // Retired while this round ran (a discovery source dropped it): what it saw makes no member.
    if (this.retired) return { seen: [], unseen: [] };
    const seen = [...samples.values()].map(({ sample, roundTripMs }) => ({ member: this.memberFor(sample), sample, roundTripMs }));
    const unseen = this.members.filter((m) => !samples.has(m.name));
    return answered ? { seen, unseen } : { seen, unseen, failure };
  }

  /** Members unseen for longer than `forgetAfterMs` leave the set; their pools close once their reads finish. */
  forgetGone(now: number): void {
    for (const member of this.members) if (now - member.seenAt > this.options.forgetAfterMs) this.leave(member);
  }

  private leave(member: ReaderMember): void {
    this.readers.remove(member);
    void drain(member, this.options.forgetAfterMs);
  }

  private async probeOnce(timeoutMs: number): Promise<{ sample: InstanceSample; roundTripMs: number } | undefined> {
    const { row, roundTripMs } = await probeTimed<InstanceRow>(
      { ...connectionConfig(this.config, this.options.tokens), connectionTimeoutMillis: timeoutMs },
      timeoutMs,
      INSTANCE_PROBE_SQL,
    );
    return row && { sample: sampleOf(row, this.name), roundTripMs };
  }

  private memberFor(sample: InstanceSample): ReaderMember {
    const id = sample.identity.id;
    // An instance already found through another address keeps its member there.
    const existing = this.readers.members.find((m) => m.name === id);
    if (existing) return existing;
    const endpoint = createEndpoint(this.config, {
      ...this.options,
      name: id,
      pin: { instance: id, attempts: () => 3 * this.members.length + 3, shared: () => this.members.length > 1 },
    });
    const { shown, foundBy, zone, label, rank } = this.options;
    return this.readers.add(endpoint, { address: shown ?? this.name, via: this.name, foundBy, zone, label, rank });
  }
}

/**
 * A departed member's reads finish (bounded), then its pool closes. A read
 * picked just before the member left may not have started yet: the pool
 * stays open a moment even with nothing in flight.
 */
async function drain(member: ReaderMember, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  const graceUntil = Date.now() + Math.min(boundMs, 2000);
  while ((member.outstanding > 0 || Date.now() < graceUntil) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100).unref());
  }
  await member.endpoint.close(1000);
}
