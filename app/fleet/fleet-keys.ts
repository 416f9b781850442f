/**
 * Where the fleet's shared state lives in Redis. Each scope (a key, team,
 * user, member, deployment) is one hash holding everything pods count
 * against it — the minute's requests and tokens, and per pod its requests in
 * flight (`par:<pod>`), its budget reservations (`held:<pod>`) and its
 * acknowledged, unwritten spend (`pend:<pod>`) — so one read admits a
 * request and one write counts it. Per-pod fields leave with their pod: the
 * pod that finds it dead removes them.
 */
export const FLEET_KEYS = {
  /** Per scope ("key:<token>", "team:<id>", …): the hash described above. */
  scope: (scope: string) => `tandem:scope:${scope}`,
  /** Per scope: spend batches written lately, scored by commit position, for budget reads that predate them. */
  written: (scope: string) => `tandem:budget:written:${scope}`,
  /** The same, scored by the time written, when there is no replica (reads see the writer; time orders them). */
  writtenAt: (scope: string) => `tandem:budget:written-at:${scope}`,
  /** Pods that are or were in the fleet. */
  pods: "tandem:fleet:pods",
  /** Per pod, while it lives. */
  alive: (pod: string) => `tandem:fleet:alive:${pod}`,
  alivePrefix: "tandem:fleet:alive:",
  /** Per pod: the scope hashes it has fields in. */
  scopesOf: (pod: string) => `tandem:fleet:scopes:${pod}`,
  /** Per pod: request id → the spend entry (JSON) it acknowledged and has not written. */
  buffer: (pod: string) => `tandem:spend:buffer:${pod}`,
  /** Per written batch, for the retention: its sums were moved (a retried call moves nothing twice). */
  applied: (batch: string) => `tandem:spend:applied:${batch}`,
  /** Per pod: the pod writing a dead pod's entries. */
  claim: (pod: string) => `tandem:spend:claim:${pod}`,
};

/** How long a scope hash outlives its last use by any pod (renewed every RENEW_MS of use). */
export const SCOPE_TTL_MS = 10 * 60_000;
export const RENEW_MS = 5 * 60_000;

/**
 * The scopes this pod has touched lately: the first use of a scope in
 * RENEW_MS tells Redis (the scope joins the pod's set, its hash's lifetime is
 * renewed), so that costs nothing per request.
 */
export class Touches {
  private readonly last = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether this use must tell Redis; counts it as told. */
  due(scope: string): boolean {
    const now = this.now();
    const at = this.last.get(scope);
    if (at !== undefined && now - at < RENEW_MS) return false;
    this.last.set(scope, now);
    if (this.last.size > 100_000) this.last.delete(this.last.keys().next().value as string);
    return true;
  }

  /** The call that was to tell Redis failed: the next use tells it. */
  forget(scope: string): void {
    this.last.delete(scope);
  }
}
