import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "../errors.js";

/**
 * The limits one key, user or team carries (LiteLLM's rpm_limit, tpm_limit, max_parallel_requests),
 * or one deployment of model_list (its litellm_params rpm / tpm).
 */
export interface LimitScope {
  kind: "key" | "user" | "team" | "deployment";
  id: string;
  rpm: number | null;
  tpm: number | null;
  maxParallel: number | null;
}

/** An admitted request: call `done` once with the tokens it used (0 if it failed). */
export interface Admission {
  done(tokens: number): void;
}

/** Admits a request against the limits of its scopes, or refuses it with a 429 naming the limit. */
export interface RateLimiter {
  admit(scopes: readonly LimitScope[]): Promise<Admission>;
}

export const WINDOW_S = 60;

/**
 * Per-pod request, token and concurrency limits, as LiteLLM enforces them
 * without Redis: requests and tokens are counted in one-minute windows
 * (rate-limiter-flexible's in-memory limiter), requests in flight by a
 * counter. A request over any limit of its key, user or team is answered 429
 * with `retry-after`, before it reaches the upstream. Tokens are known only
 * after the response, so a tpm limit stops the requests after the one that
 * crossed it. With P pods behind a Service each pod counts its own share:
 * a key may make up to P × its limit across the fleet.
 */
export class RateLimits implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterMemory>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly onRefuse: (scope: LimitScope["kind"]) => void = () => undefined) {}

  private limiter(kind: "rpm" | "tpm", points: number): RateLimiterMemory {
    const name = `${kind}:${points}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterMemory({ keyPrefix: kind, points, duration: WINDOW_S });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  async admit(scopes: readonly LimitScope[]): Promise<Admission> {
    const limited = limitedScopes(scopes);
    if (limited.length === 0) return { done: () => undefined };

    for (const scope of limited) {
      const running = this.inFlight.get(scopeName(scope)) ?? 0;
      if (scope.maxParallel !== null && running >= scope.maxParallel)
        throw this.refusal(scope, `max_parallel_requests ${scope.maxParallel} (${running} in flight)`, 1000);
      if (scope.tpm !== null) {
        const used = await this.limiter("tpm", scope.tpm).get(scopeName(scope));
        if (used && used.consumedPoints >= scope.tpm)
          throw this.refusal(scope, `tpm_limit ${scope.tpm} (${used.consumedPoints} tokens this minute)`, used.msBeforeNext);
      }
    }
    // A request counts against every scope's rpm or none: a refusal by the team gives the key its point back.
    const counted: LimitScope[] = [];
    for (const scope of limited) {
      if (scope.rpm === null) continue;
      try {
        await this.limiter("rpm", scope.rpm).consume(scopeName(scope), 1);
        counted.push(scope);
      } catch (error) {
        for (const c of counted) await this.limiter("rpm", c.rpm!).reward(scopeName(c), 1);
        if (error instanceof RateLimiterRes) throw this.refusal(scope, `rpm_limit ${scope.rpm}`, error.msBeforeNext);
        throw error;
      }
    }

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
          if (scope.tpm !== null && tokens > 0) void this.limiter("tpm", scope.tpm).penalty(scopeName(scope), tokens);
        }
      },
    };
  }

  private refusal(scope: LimitScope, what: string, retryAfterMs: number): ApiError {
    this.onRefuse(scope.kind);
    return rateLimitError(scope, what, retryAfterMs);
  }
}

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
