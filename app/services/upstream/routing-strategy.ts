import type { Deployment } from "../../config/model-config.js";
import type { RoutingStrategy } from "../../config/routing-strategies.js";

/** Latencies kept per deployment: the recent ones say how it answers now. */
const LATENCY_SAMPLES = 10;

/**
 * What this pod has seen of each deployment: calls in flight, tokens used in
 * the current minute, recent latencies (to the answer's head: for a stream,
 * the first token). The strategies other than simple-shuffle choose by these.
 */
export class DeploymentStats {
  private readonly inFlight = new Map<string, number>();
  private readonly minuteTokens = new Map<string, { minute: number; tokens: number }>();
  private readonly latencies = new Map<string, number[]>();

  constructor(private readonly now: () => number) {}

  started(id: string): void {
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
  }

  /** The call's answer head arrived after `latencyMs`. */
  answered(id: string, latencyMs: number): void {
    const samples = this.latencies.get(id) ?? [];
    samples.push(latencyMs);
    if (samples.length > LATENCY_SAMPLES) samples.shift();
    this.latencies.set(id, samples);
  }

  /**
   * The deployment failed the call (overloaded, erroring, timed out): the call is over, and for
   * latency-based routing it counts as a wait of at least a second, so the deployment is tried
   * less until it answers quickly again (LiteLLM penalises a timeout likewise).
   */
  failed(id: string, latencyMs: number): void {
    this.answered(id, Math.max(latencyMs, 1000));
    this.ended(id, 0);
  }

  /** The request it served is over (the whole answer relayed), with the tokens it used. */
  ended(id: string, tokens: number): void {
    const flying = (this.inFlight.get(id) ?? 1) - 1;
    if (flying > 0) this.inFlight.set(id, flying);
    else this.inFlight.delete(id);
    if (tokens > 0) {
      const minute = Math.floor(this.now() / 60_000);
      const used = this.minuteTokens.get(id);
      this.minuteTokens.set(id, { minute, tokens: (used?.minute === minute ? used.tokens : 0) + tokens });
    }
  }

  busy(id: string): number {
    return this.inFlight.get(id) ?? 0;
  }

  tokensThisMinute(id: string): number {
    const used = this.minuteTokens.get(id);
    return used?.minute === Math.floor(this.now() / 60_000) ? used.tokens : 0;
  }

  /** Mean of the recent latencies; undefined before the first answer. */
  latency(id: string): number | undefined {
    const samples = this.latencies.get(id);
    return samples?.length ? samples.reduce((a, b) => a + b, 0) / samples.length : undefined;
  }
}

/** Weighted at random (litellm_params.weight, else rpm, else tpm, else 1): simple-shuffle, and every tie-break. */
export function weighted(pool: readonly Deployment[], random: () => number): Deployment | undefined {
  const total = pool.reduce((sum, d) => sum + d.weight, 0);
  let point = random() * total;
  for (const deployment of pool) {
    point -= deployment.weight;
    if (point < 0) return deployment;
  }
  return pool.at(-1);
}

/** The deployments with the lowest score (within `slack` of it, as a fraction), weighted at random among them. */
function lowest(pool: readonly Deployment[], score: (d: Deployment) => number, random: () => number, slack = 0): Deployment | undefined {
  if (pool.length === 0) return undefined;
  const min = Math.min(...pool.map(score));
  return weighted(
    pool.filter((d) => score(d) <= min + Math.abs(min) * slack),
    random,
  );
}

/**
 * One deployment of the pool, as the strategy chooses: simple-shuffle by
 * weight; least-busy the fewest calls in flight; usage-based the fewest
 * tokens this minute; latency-based the fastest recent answers (one not yet
 * measured first, so each is measured; `latencyBuffer`: any within that
 * fraction of the fastest, LiteLLM's lowest_latency_buffer); cost-based the
 * cheapest per token. Ties are broken by weight, at random.
 */
export function choose(
  strategy: RoutingStrategy,
  pool: readonly Deployment[],
  stats: DeploymentStats,
  random: () => number,
  latencyBuffer = 0,
): Deployment | undefined {
  switch (strategy) {
    case "simple-shuffle":
      return weighted(pool, random);
    case "least-busy":
      return lowest(pool, (d) => stats.busy(d.id), random);
    case "usage-based-routing":
    case "usage-based-routing-v2":
      return lowest(pool, (d) => stats.tokensThisMinute(d.id), random);
    case "latency-based-routing": {
      const unmeasured = pool.filter((d) => stats.latency(d.id) === undefined);
      if (unmeasured.length > 0) return weighted(unmeasured, random);
      return lowest(pool, (d) => stats.latency(d.id)!, random, latencyBuffer);
    }
    case "cost-based-routing":
      return lowest(pool, (d) => d.price.inputPerToken + d.price.outputPerToken, random);
  }
}
