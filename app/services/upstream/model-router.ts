import type { Deployment, ProxyConfig, Unserved } from "../../config/model-config.js";
import { LocalCooldowns, type Cooldowns } from "./cooldowns.js";
import { WildcardGroups } from "./wildcard-groups.js";
import { choose, DeploymentStats } from "./routing-strategy.js";

/**
 * What one try on one deployment came to. A retryable failure is worth another deployment; the
 * rest are final. A busy deployment (at its rpm/tpm) was not called: it is skipped, neither a try
 * nor a failure.
 */
export type Attempt<T> = { ok: true; value: T } | Failure<T> | Busy;

/** Which of LiteLLM's fallback lists a failure goes to once its own group cannot serve it. */
export type FallbackKind = "general" | "context_window" | "content_policy";

export interface Failure<T> {
  ok: false;
  /** Worth another deployment of the group (then the general fallbacks). */
  retryable: boolean;
  value?: T;
  error?: unknown;
  busy?: undefined;
  /** Not worth a retry, but worth that kind's fallbacks (a prompt too long, content refused, a mock failure). */
  fallback?: FallbackKind;
  /** Not the deployment's fault (a mock failure a client asked for): no cooldown. */
  cooldown?: false;
}

/** Which group an attempt is for — the model asked for (fallback 0), or its nth fallback — and which retry in it (0: the first call). */
export interface Step {
  group: string;
  fallback: number;
  retry: number;
}

/** What the request itself asks of routing, beside the config. */
export interface RouteOptions {
  /** An end user's allowed_model_region. */
  region?: string;
  /** The request's own (client-side) fallbacks, in place of the config's general ones. */
  fallbacks?: string[];
  /** The request's num_retries, in place of the deployment's and the config's. */
  numRetries?: number;
  /** The prompt's tokens, counted when enable_pre_call_checks is on: deployments too small for it are skipped. */
  promptTokens?: number;
  /** The one deployment that can serve it (it continues a response that deployment keeps), in a group that has it. */
  deploymentId?: string;
}

/** The deployment that answered (or the last that failed), and what it took. */
export interface Routed<T> {
  deployment: Deployment;
  attempt: Exclude<Attempt<T>, Busy>;
  /** Calls made, over every group. */
  tries: number;
  /** Retries within the group that answered (LiteLLM's x-litellm-attempted-retries). */
  retries: number;
  /** Fallback groups tried (x-litellm-attempted-fallbacks). */
  fallbacks: number;
  /** The retries the model group allows (x-litellm-max-retries). */
  maxRetries: number;
}

/** The deployment is at its rpm/tpm limit: not called. */
export type Busy = { ok: false; retryable: true; busy: { retryAfterMs: number } };

const isBusy = <T>(attempt: Attempt<T>): attempt is Busy => !attempt.ok && attempt.busy !== undefined;

interface GroupState {
  tries: number;
  busy: Set<string>;
  busyFor?: number;
}
type GroupOutcome<T> = { deployment: Deployment; attempt: Exclude<Attempt<T>, Busy>; retries: number };

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

/** Every deployment of the model group is one tandem cannot serve (a provider it does not have, a setting missing). */
export class ModelNotServed extends Error {
  constructor(
    readonly model: string,
    readonly reasons: string[],
  ) {
    super(`${model} is not served: ${reasons.join("; ")}`);
  }
}

/**
 * enable_pre_call_checks: the prompt is longer than every deployment of the model group takes
 * (max_input_tokens), and no context_window_fallbacks group took it either. Nothing was called.
 */
export class PromptTooLong extends Error {
  constructor(
    readonly model: string,
    readonly promptTokens: number,
    readonly maxInputTokens: number,
  ) {
    super(`the prompt's ${promptTokens} tokens exceed ${model}'s max_input_tokens (${maxInputTokens})`);
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
  private readonly stats: DeploymentStats;
  /** The config file's groups with the database's models joined in (replaceStored). */
  private models: ReadonlyMap<string, Deployment[]>;
  private unservedEntries: readonly Unserved[];
  private wildcards: WildcardGroups;

  constructor(
    private readonly config: Pick<ProxyConfig, "models" | "router"> & Partial<Pick<ProxyConfig, "unserved">>,
    options: { now?: () => number; random?: () => number; cooldowns?: Cooldowns } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.cooldowns = options.cooldowns ?? new LocalCooldowns(config.router, this.now);
    this.models = config.models;
    this.unservedEntries = config.unserved ?? [];
    this.wildcards = new WildcardGroups(config.models);
    this.stats = new DeploymentStats(this.now);
  }

  /**
   * The models kept in the database, in place of the last ones: each joins the group of its name
   * (beside the config file's deployments of that name, as LiteLLM's router does). The config's
   * own never change.
   */
  replaceStored(deployments: readonly Deployment[], unserved: readonly Unserved[]): void {
    const models = new Map([...this.config.models].map(([name, group]) => [name, [...group]]));
    for (const d of deployments) models.set(d.name, [...(models.get(d.name) ?? []), d]);
    this.models = models;
    this.unservedEntries = [...(this.config.unserved ?? []), ...unserved];
    this.wildcards = new WildcardGroups(models);
  }

  /** The access groups (model_info.access_groups) a key's model list may name to be allowed this group. */
  accessGroupsOf(model: string): string[] {
    return [...new Set(this.deployments(model).flatMap((d) => d.accessGroups ?? []))];
  }

  /** Every access group some deployment is in. */
  accessGroups(): string[] {
    return [...new Set(this.allDeployments().flatMap((d) => d.accessGroups ?? []))];
  }

  /** The team whose own model this group is (model_info.team_id on its deployments), if it is one. */
  ownerTeam(model: string): string | undefined {
    return this.deployments(model).find((d) => d.teamId !== undefined)?.teamId;
  }

  /**
   * The request a deployment answered is over (its answer relayed), with the tokens it used: what
   * least-busy and usage-based routing count. Every successful route() is ended once.
   */
  ended(deployment: Deployment, tokens: number): void {
    this.stats.ended(deployment.id, tokens);
  }

  /** Configured by name, or matched by a wildcard group (`*`, `anthropic/*`). */
  has(model: string): boolean {
    return this.deployments(model).length > 0 || this.unserved(model).length > 0;
  }

  /** The configured model group names, wildcard patterns included (and those tandem cannot serve: they answer why). */
  modelNames(): string[] {
    return [...new Set([...this.models.keys(), ...this.unservedEntries.map((u) => u.name), ...(this.config.router.aliases?.keys() ?? [])])];
  }

  /** Whether requests' prompts are counted for the pre-call check (enable_pre_call_checks). */
  get preCallChecks(): boolean {
    return this.config.router.preCallChecks ?? false;
  }

  /** An alias kept out of model lists (model_group_alias with `hidden: true`); it still serves. */
  hidden(model: string): boolean {
    return this.config.router.hiddenAliases?.has(model) ?? false;
  }

  /** The group's entries tandem cannot serve. */
  unserved(model: string): Unserved[] {
    const group = this.config.router.aliases?.get(model) ?? model;
    return this.unservedEntries.filter((u) => u.name === group);
  }

  /** The regions deployments say they run in (litellm_params.region_name). */
  regions(): string[] {
    return [...new Set(this.allDeployments().flatMap((d) => (d.region ? [d.region] : [])))];
  }

  /** The group's deployments; a name only a wildcard group matches gets that group's, made concrete for it. */
  deployments(model: string): Deployment[] {
    const group = this.models.get(model) ?? this.models.get(this.config.router.aliases?.get(model) ?? "");
    return group ?? this.wildcards.deploymentsFor(model);
  }

  /** Every configured deployment once (wildcard ones as configured, not per concrete name). */
  allDeployments(): Deployment[] {
    return [...this.models.values()].flat();
  }

  coolingDown(): Array<{ id: string; untilMs: number }> {
    return this.cooldowns.all();
  }

  /**
   * Tries the model group, then — when it cannot serve — the fallbacks for how it failed:
   * context_window_fallbacks for a prompt too long, content_policy_fallbacks for content refused,
   * else the request's own fallbacks, the group's, or the default ones. Each group is tried with
   * its retries. `region` (an end user's allowed_model_region) keeps the request on deployments
   * whose litellm_params.region_name is that region, fallbacks included; one without a
   * region_name is not known to be there, so it is not used (LiteLLM's pre-call check does the same).
   */
  async route<T>(
    model: string,
    attempt: (deployment: Deployment, step: Step) => Promise<Attempt<T>>,
    options: RouteOptions = {},
  ): Promise<Routed<T>> {
    const { region, promptTokens, deploymentId } = options;
    const pinned = (deployments: Deployment[]) => {
      const only = deployments.filter((d) => d.id === deploymentId);
      return only.length > 0 ? only : deployments;
    };
    const inRegion = (group: string) => pinned(this.deployments(group)).filter((d) => region === undefined || d.region === region);
    // LiteLLM's pre-call check: a deployment whose context window the prompt exceeds is not called.
    const fits = (d: Deployment) =>
      !this.config.router.preCallChecks || promptTokens === undefined || d.maxInputTokens === undefined || promptTokens <= d.maxInputTokens;
    const eligible = (group: string) => inRegion(group).filter(fits);
    const general = options.fallbacks ?? this.fallbacksOf("general", model);
    if (region !== undefined && [model, ...general].every((group) => eligible(group).length === 0))
      throw new NoDeploymentInRegion(model, region);
    const state: GroupState = { tries: 0, busy: new Set() };
    const retriesOf = (group: string) =>
      options.numRetries ?? this.deployments(group).find((d) => d.numRetries !== undefined)?.numRetries ?? this.config.router.numRetries;
    const maxRetries = retriesOf(model);
    let last = await this.tryGroup(eligible, { group: model, fallback: 0 }, maxRetries, attempt, state);
    const done = (outcome: GroupOutcome<T>, fallbacks: number): Routed<T> => ({ ...outcome, tries: state.tries, fallbacks, maxRetries });
    if (last && (last.attempt.ok || (!last.attempt.retryable && !last.attempt.fallback))) return done(last, 0);
    // Every deployment there is, too small for the prompt: a context-window failure without a call.
    const tooLong = !last && inRegion(model).length > 0 && eligible(model).length === 0;
    const kind = tooLong ? "context_window" : (last && !last.attempt.ok && last.attempt.fallback) || "general";
    // LiteLLM's order: a prompt too long or content refused goes to its own list when there is one.
    const specific = kind === "general" ? [] : this.fallbacksOf(kind, model);
    const next = specific.length > 0 ? specific : general;
    let fallbacks = 0;
    for (const [index, group] of next.entries()) {
      const outcome = await this.tryGroup(eligible, { group, fallback: index + 1 }, retriesOf(group), attempt, state);
      if (!outcome) continue;
      last = outcome;
      fallbacks = index + 1;
      if (outcome.attempt.ok) break;
    }
    if (last) return done(last, fallbacks);
    if (tooLong) throw new PromptTooLong(model, promptTokens!, Math.max(...inRegion(model).map((d) => d.maxInputTokens!)));
    if (state.busyFor !== undefined) throw new NoDeploymentAvailable(model, state.busyFor, "at its rpm/tpm limit");
    const unserved = this.unserved(model);
    if (this.deployments(model).length === 0 && unserved.length > 0)
      throw new ModelNotServed(
        model,
        unserved.map((u) => u.reason),
      );
    throw new NoDeploymentAvailable(model, this.firstBackMs([model, ...next].flatMap(eligible)));
  }

  /** One group, with its retries: its last answer, or nothing when no deployment of it could be called. */
  private async tryGroup<T>(
    eligible: (group: string) => Deployment[],
    step: Omit<Step, "retry">,
    maxRetries: number,
    attempt: (deployment: Deployment, step: Step) => Promise<Attempt<T>>,
    state: GroupState,
  ): Promise<GroupOutcome<T> | undefined> {
    const tried = new Set<string>();
    let last: GroupOutcome<T> | undefined;
    for (let i = 0; i <= maxRetries;) {
      const deployment = this.pick(eligible(step.group), tried, state.busy);
      if (!deployment) break;
      const started = this.now();
      this.stats.started(deployment.id);
      let result: Attempt<T>;
      try {
        result = await attempt(deployment, { ...step, retry: i });
      } catch (error) {
        this.stats.ended(deployment.id, 0);
        throw error;
      }
      if (isBusy(result)) {
        // Not called after all: nothing to measure.
        this.stats.ended(deployment.id, 0);
        state.busy.add(deployment.id);
        state.busyFor = Math.min(state.busyFor ?? Infinity, result.busy.retryAfterMs);
        continue;
      }
      const latencyMs = this.now() - started;
      if (result.ok) this.stats.answered(deployment.id, latencyMs);
      else if (result.retryable && result.cooldown !== false) this.stats.failed(deployment.id, latencyMs);
      else {
        // The request's own fault (or a mock): the deployment answered, and the call is over.
        this.stats.answered(deployment.id, latencyMs);
        this.stats.ended(deployment.id, 0);
      }
      tried.add(deployment.id);
      state.tries++;
      last = { deployment, attempt: result, retries: i };
      i++;
      if (result.ok || !result.retryable) return last;
      if (result.cooldown !== false) this.cooldowns.failed(deployment.id, this.deployments(step.group).length > 1);
    }
    return last;
  }

  /** A kind's fallbacks for the group: its own entry, else the `*` entry (LiteLLM's default_fallbacks). */
  private fallbacksOf(kind: FallbackKind, model: string): string[] {
    const lists = {
      general: this.config.router.fallbacks,
      context_window: this.config.router.contextWindowFallbacks,
      content_policy: this.config.router.contentPolicyFallbacks,
    }[kind];
    return lists?.get(model) ?? lists?.get("*") ?? [];
  }

  /** A deployment of the group not cooling down nor busy, preferring one not yet tried; weighted at random. */
  private pick(deployments: Deployment[], tried: Set<string>, busy: Set<string>): Deployment | undefined {
    const now = this.now();
    const up = deployments.filter((d) => this.cooldowns.until(d.id) <= now && !busy.has(d.id));
    const fresh = up.filter((d) => !tried.has(d.id));
    const pool = fresh.length > 0 ? fresh : up;
    return choose(this.config.router.strategy ?? "simple-shuffle", pool, this.stats, this.random, this.config.router.latencyBuffer);
  }

  private firstBackMs(deployments: Deployment[]): number {
    const now = this.now();
    const until = deployments.map((d) => Math.max(now, this.cooldowns.until(d.id)));
    return Math.max(0, Math.min(...until) - now);
  }
}
