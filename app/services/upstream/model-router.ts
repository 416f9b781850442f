import type { Deployment, ProxyConfig } from "../../config/model-config.js";
import { LocalCooldowns, type Cooldowns } from "./cooldowns.js";
import { WildcardGroups } from "./wildcard-groups.js";

/**
 * What one try on one deployment came to. A retryable failure is worth another deployment; the
 * rest are final. A busy deployment (at its rpm/tpm) was not called: it is skipped, neither a try
 * nor a failure.
 */
export type Attempt<T> = { ok: true; value: T } | { ok: false; retryable: boolean; value?: T; error?: unknown; busy?: undefined } | Busy;

/** The deployment is at its rpm/tpm limit: not called. */
export type Busy = { ok: false; retryable: true; busy: { retryAfterMs: number } };

const isBusy = <T>(attempt: Attempt<T>): attempt is Busy => !attempt.ok && attempt.busy !== undefined;

/** Every deployment that could serve the request is cooling down after failures, or at its rpm/tpm limit. */
export class NoDeploymentAvailable extends Error {
  constructor(
    readonly model: string,
    readonly retryAfterMs: number,
    readonly why: "cooling down after failures" | "at its rpm/tpm limit" = "cooling down after failures",
  ) {
    super(`no deployment of ${model} is available; every one is ${why}`);
  }
}

/** The request may be served only in one region (an end user's allowed_model_region), and its model group has no deployment there. */
export class NoDeploymentInRegion extends Error {
  constructor(
    readonly model: string,
    readonly region: string,
  ) {
    super(`no deployment of ${model} (or its fallbacks) is in region ${region}`);
  }
}

/**
 * LiteLLM's Router, simple-shuffle: a request for a model group goes to one
 * of its deployments at random, weighted; a retryable failure is retried up
 * to `numRetries` times, on a deployment not yet tried when there is one,
 * then the group's fallbacks are tried in order, each the same way. A
 * deployment with more than `allowedFails` retryable failures in a minute
 * cools down for `cooldownMs` and gets no traffic meanwhile — unless it is its
 * group's only deployment, which is never taken out (as in LiteLLM). Cooldowns
 * are this pod's own, or the fleet's when shared through Redis. A deployment
 * the attempt finds at its rpm/tpm limit is skipped for another; when all are,
 * the request is refused (LiteLLM's pre-call checks).
 */
export class ModelRouter {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly cooldowns: Cooldowns;
  private readonly wildcards: WildcardGroups;

  constructor(
    private readonly config: Pick<ProxyConfig, "models" | "router">,
    options: { now?: () => number; random?: () => number; cooldowns?: Cooldowns } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.cooldowns = options.cooldowns ?? new LocalCooldowns(config.router, this.now);
    this.wildcards = new WildcardGroups(config.models);
  }

  /** Configured by name, or matched by a wildcard group (`*`, `anthropic/*`). */
  has(model: string): boolean {
    return this.deployments(model).length > 0;
  }

  /** The configured model group names, wildcard patterns included. */
  modelNames(): string[] {
    return [...this.config.models.keys()];
  }

  /** The regions deployments say they run in (litellm_params.region_name). */
  regions(): string[] {
    return [...new Set([...this.config.models.values()].flat().flatMap((d) => (d.region ? [d.region] : [])))];
  }

  /** The group's deployments; a name only a wildcard group matches gets that group's, made concrete for it. */
  deployments(model: string): Deployment[] {
    return this.config.models.get(model) ?? this.wildcards.deploymentsFor(model);
  }

  coolingDown(): Array<{ id: string; untilMs: number }> {
    return this.cooldowns.all();
  }

  /**
   * `region` (an end user's allowed_model_region) keeps the request on deployments whose
   * litellm_params.region_name is that region, fallbacks included; one without a region_name is
   * not known to be there, so it is not used (LiteLLM's pre-call check does the same).
   */
  async route<T>(
    model: string,
    attempt: (deployment: Deployment) => Promise<Attempt<T>>,
    options: { region?: string } = {},
  ): Promise<{ deployment: Deployment; attempt: Exclude<Attempt<T>, Busy>; tries: number }> {
    const groups = [model, ...(this.config.router.fallbacks.get(model) ?? [])];
    const { region } = options;
    const eligible = (group: string) => this.deployments(group).filter((d) => region === undefined || d.region === region);
    if (region !== undefined && groups.every((group) => eligible(group).length === 0)) throw new NoDeploymentInRegion(model, region);
    let tries = 0;
    let last: { deployment: Deployment; attempt: Exclude<Attempt<T>, Busy> } | undefined;
    let busyFor: number | undefined;
    const busy = new Set<string>();
    for (const group of groups) {
      const tried = new Set<string>();
      for (let i = 0; i <= this.config.router.numRetries;) {
        const deployment = this.pick(eligible(group), tried, busy);
        if (!deployment) break;
        const result = await attempt(deployment);
        if (isBusy(result)) {
          busy.add(deployment.id);
          busyFor = Math.min(busyFor ?? Infinity, result.busy.retryAfterMs);
          continue;
        }
        i++;
        tried.add(deployment.id);
        tries++;
        last = { deployment, attempt: result };
        if (result.ok || !result.retryable) return { ...last, tries };
        this.cooldowns.failed(deployment.id, this.deployments(group).length > 1);
      }
    }
    if (last) return { ...last, tries };
    if (busyFor !== undefined) throw new NoDeploymentAvailable(model, busyFor, "at its rpm/tpm limit");
    throw new NoDeploymentAvailable(model, this.firstBackMs(groups.flatMap(eligible)));
  }

  /** A deployment of the group not cooling down nor busy, preferring one not yet tried; weighted at random. */
  private pick(deployments: Deployment[], tried: Set<string>, busy: Set<string>): Deployment | undefined {
    const now = this.now();
    const up = deployments.filter((d) => this.cooldowns.until(d.id) <= now && !busy.has(d.id));
    const fresh = up.filter((d) => !tried.has(d.id));
    const pool = fresh.length > 0 ? fresh : up;
    const total = pool.reduce((sum, d) => sum + d.weight, 0);
    let point = this.random() * total;
    for (const deployment of pool) {
      point -= deployment.weight;
      if (point < 0) return deployment;
    }
    return pool.at(-1);
  }

  private firstBackMs(deployments: Deployment[]): number {
    const now = this.now();
    const until = deployments.map((d) => Math.max(now, this.cooldowns.until(d.id)));
    return Math.max(0, Math.min(...until) - now);
  }
}
