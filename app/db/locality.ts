// Which instances count as near: LiteLLM's docs give "a reader closer to the
// proxy" as a reason for read replicas, and one address over replicas in
// several zones or regions (Aurora's reader endpoint, a Service over pods in
// three zones) sends connections anywhere. Distance is the round trip of the
// health cycle's probe statement (not the connection's set-up), kept as the
// smallest of the last few: delay added by a busy machine only ever makes a
// round trip longer, never shorter, so the minimum is the distance.

const WINDOW = 10;

/** The last few probe round trips to one instance; `ms` is their minimum. */
export class RoundTrips {
  private readonly recent: number[] = [];

  note(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > WINDOW) this.recent.shift();
  }

  get ms(): number | undefined {
    return this.recent.length === 0 ? undefined : Math.min(...this.recent);
  }
}

/**
 * Near: within twice the closest usable instance's round trip plus 10 ms
 * (a busy 2-core host's scheduling alone can add a few milliseconds to a
 * loopback round trip, for ten probes in a row).
 * Same-host and same-zone replicas (a fraction of a millisecond to a
 * millisecond or two apart) all count as near and share the reads; one in
 * another region (tens of milliseconds) does not, and gets reads only when
 * no near one can take them. Not measured yet counts as near.
 */
export function isNear(ms: number | undefined, closestMs: number | undefined): boolean {
  return ms === undefined || closestMs === undefined || ms <= 2 * closestMs + 10;
}
