import { RateLimiterMemory } from "rate-limiter-flexible";
import { ApiError } from "../errors.js";

/**
 * The limits one key, user or team carries (LiteLLM's rpm_limit, tpm_limit, max_parallel_requests),
 * or one deployment of model_list (its litellm_params rpm / tpm).
 */
export interface LimitScope {
  kind: "key" | "user" | "team" | "deployment" | "end_user";
  id: string;
  rpm: number | null;
  tpm: number | null;
  maxParallel: number | null;
}

/** An admitted request: call `done` once with the tokens it used (0 if it failed). */
export interface Admission {
  done(tokens: number): void;
}

export const WINDOW_S = 60;

/**
 * How a pod counts a request on its own: `share` divides every limit (the
 * fleet's pods each take their part while Redis cannot count for them all);
 * `record` counts a request the fleet already admitted, without checking, so
 * that the pod's own count is right when it has to decide alone.
 */
export interface LocalCount {
  share?: number;
  record?: boolean;
}

/** A limit's part for one of `share` pods (rounded up: no pod is refused everything). */
export const partOf = (limit: number, share = 1) => Math.ceil(limit / Math.max(1, share));

/**
 * Per-pod request, token and concurrency limits, as LiteLLM enforces them
 * without Redis: requests and tokens are counted in one-minute windows
 * (rate-limiter-flexible's in-memory limiter), requests in flight by a
 * counter. A request over any limit of its key, user or team is answered 429
 * with `retry-after`, before it reaches the upstream. Tokens are known only
 * after the response, so a tpm limit stops the requests after the one that
 * crossed it. The counts are kept per scope whatever the limit, so a pod
 * that counted with the fleet can go on alone with its share (`LocalCount`).
 */
export class RateLimits {
  // Points past any limit: the limit is compared here, so one count serves every share of it.
  private readonly requests = new RateLimiterMemory({ keyPrefix: "rpm", points: Number.MAX_SAFE_INTEGER, duration: WINDOW_S });
  private readonly tokens = new RateLimiterMemory({ keyPrefix: "tpm", points: Number.MAX_SAFE_INTEGER, duration: WINDOW_S });
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly onRefuse: (scope: LimitScope["kind"]) => void = () => undefined) {}

  async admit(scopes: readonly LimitScope[], count: Pick<LocalCount, "share"> = {}): Promise<Admission> {
    const limited = limitedScopes(scopes);
    if (limited.length === 0) return { done: () => undefined };

    for (const scope of limited) {
      const running = this.inFlight.get(scopeName(scope)) ?? 0;
      if (scope.maxParallel !== null && running >= partOf(scope.maxParallel, count.share))
        throw this.refusal(scope, `max_parallel_requests ${scope.maxParallel} (${running} in flight${shareNote(count)})`, 1000);
      if (scope.tpm !== null) {
        const used = await this.tokens.get(scopeName(scope));
        if (used && used.consumedPoints >= partOf(scope.tpm, count.share))
          throw this.refusal(
            scope,
            `tpm_limit ${scope.tpm} (${used.consumedPoints} tokens this minute${shareNote(count)})`,
            used.msBeforeNext,
          );
      }
    }
    // A request counts against every scope's rpm or none: a refusal by the team gives the key its point back.
    const counted: LimitScope[] = [];
    for (const scope of limited) {
      if (scope.rpm === null) continue;
      const used = await this.requests.consume(scopeName(scope), 1);
      counted.push(scope);
      if (used.consumedPoints > partOf(scope.rpm, count.share)) {
        for (const c of counted) await this.requests.reward(scopeName(c), 1);
        throw this.refusal(scope, `rpm_limit ${scope.rpm}${shareNote(count)}`, used.msBeforeNext);
      }
    }

    return this.counted(limited);
  }

  /**
   * Counts a request the fleet admitted, at once and without checking: the pod's own count stays
   * right for when it must decide alone. Synchronous — it runs for every request of a fleet.
   */
  record(scopes: readonly LimitScope[]): Admission {
    const limited = limitedScopes(scopes);
    if (limited.length === 0) return { done: () => undefined };
    for (const scope of limited) if (scope.rpm !== null) void this.requests.penalty(scopeName(scope), 1);
    return this.counted(limited);
  }

  /** A request counted in flight in each of its scopes; `done` frees the slots and counts its tokens. */
  private counted(limited: readonly LimitScope[]): Admission {
    for (const scope of limited) this.inFlight.set(scopeName(scope), (this.inFlight.get(scopeName(scope)) ?? 0) + 1);
    let finished = false;
    return {
      done: (tokens) => {
        if (finished) return;
        finished = true;
        for (const scope of limited) {
          const left = (this.inFlight.get(scopeName(scope)) ?? 1) - 1;
          if (left > 0) this.inFlight.set(scopeName(scope), left);
          else this.inFlight.delete(scopeName(scope));
          if (scope.tpm !== null && tokens > 0) void this.tokens.penalty(scopeName(scope), tokens);
        }
      },
    };
  }

  private refusal(scope: LimitScope, what: string, retryAfterMs: number): ApiError {
    this.onRefuse(scope.kind);
    return rateLimitError(scope, what, retryAfterMs);
  }
}

const shareNote = (count: LocalCount) => ((count.share ?? 1) > 1 ? `; this pod's share of ${count.share} while Redis is unavailable` : "");

/** LiteLLM's 429 for a crossed limit, with `retry-after`; the same whichever store counted. */
export function rateLimitError(scope: LimitScope, what: string, retryAfterMs: number): ApiError {
  const who = scope.kind === "key" ? "key" : `${scope.kind} ${scope.id}`;
  return ApiError.rateLimited(
    `Rate limit exceeded for ${who}: crossed TPM / RPM / max parallel request limit, ${what}. Retry after ${Math.max(1, Math.ceil(retryAfterMs / 1000))}s`,
    retryAfterMs,
  );
}

/** Which limits a request is held to: the scopes with at least one limit set. */
export const limitedScopes = (scopes: readonly LimitScope[]) =>
  scopes.filter((s) => s.rpm !== null || s.tpm !== null || s.maxParallel !== null);

export const scopeName = (scope: LimitScope) => `${scope.kind}:${scope.id}`;
