import { randomUUID } from "node:crypto";
import {
  limitedScopes,
  rateLimitError,
  scopeName,
  WINDOW_S,
  type Admission,
  type LimitScope,
  type RateLimiter,
} from "../services/access/rate-limits.js";
import { RedisUnavailable, type RedisLink } from "./redis-link.js";
import { Batcher } from "./batcher.js";
import { RedisScript } from "./redis-script.js";

// One round trip admits or refuses a request against every limit of every
// scope, atomically: check all, then count all. A refusal counts nothing.
//   KEYS, per scope: rpm counter, tpm counter, in-flight set
//   ARGV: now (ms), window (ms), request id, in-flight lease (ms), then per scope: rpm, tpm, max parallel (-1: none)
// Returns {0} when admitted, or {scope index (1-based), limit, used, retry-after ms}.
// In-flight requests are a sorted set scored by when their lease ends, so a
// pod that dies with requests in flight frees its slots when the lease runs out.
const ADMIT = new RedisScript(`
local now, window, id, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local n = #KEYS / 3
for i = 0, n - 1 do
  local rpm, tpm, par = tonumber(ARGV[5 + i * 3]), tonumber(ARGV[6 + i * 3]), tonumber(ARGV[7 + i * 3])
  local rk, tk, pk = KEYS[1 + i * 3], KEYS[2 + i * 3], KEYS[3 + i * 3]
  if par >= 0 then
    redis.call('ZREMRANGEBYSCORE', pk, '-inf', now)
    local running = redis.call('ZCARD', pk)
    if running >= par then return {i + 1, 'par', running, 1000} end
  end
  if tpm >= 0 then
    local used = tonumber(redis.call('GET', tk) or '0')
    if used >= tpm then return {i + 1, 'tpm', used, math.max(redis.call('PTTL', tk), 1)} end
  end
  if rpm >= 0 then
    local used = tonumber(redis.call('GET', rk) or '0')
    if used >= rpm then return {i + 1, 'rpm', used, math.max(redis.call('PTTL', rk), 1)} end
  end
end
for i = 0, n - 1 do
  local rpm, par = tonumber(ARGV[5 + i * 3]), tonumber(ARGV[7 + i * 3])
  if rpm >= 0 then
    if redis.call('INCR', KEYS[1 + i * 3]) == 1 then redis.call('PEXPIRE', KEYS[1 + i * 3], window) end
  end
  if par >= 0 then
    redis.call('ZADD', KEYS[3 + i * 3], now + lease, id)
    redis.call('PEXPIRE', KEYS[3 + i * 3], lease)
  end
end
return {0}
`);

// Settles the requests that finished in one turn of the event loop: frees their in-flight slots
// and counts their tokens, keeping (or starting) the minute window of each tpm counter.
//   KEYS, per request and scope: tpm counter, in-flight set
//   ARGV: window (ms), then per request: id, tokens, scope count, per scope: has tpm, has par (1/0)
const SETTLE = new RedisScript(`
local window, a, k = tonumber(ARGV[1]), 2, 1
while a <= #ARGV do
  local id, tokens, n = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  for i = 0, n - 1 do
    local tk, pk = KEYS[k + i * 2], KEYS[k + 1 + i * 2]
    if ARGV[a + 3 + i * 2] == '1' and tokens > 0 then
      redis.call('INCRBY', tk, tokens)
      if redis.call('PTTL', tk) < 0 then redis.call('PEXPIRE', tk, window) end
    end
    if ARGV[a + 4 + i * 2] == '1' then redis.call('ZREM', pk, id) end
  end
  a, k = a + 3 + n * 2, k + n * 2
end
return 0
`);

interface Settlement {
  id: string;
  tokens: number;
  scopes: LimitScope[];
}

type AdmitReply = [0] | [number, "par" | "tpm" | "rpm", number, number];

/** How long a request may hold an in-flight slot if its pod dies before releasing it. */
const LEASE_MS = 10 * 60_000;

/**
 * rpm, tpm and max_parallel_requests counted in Redis for the whole fleet:
 * a key with `rpm_limit: 30` gets 30 requests a minute however many pods
 * serve it. One script call per request on the hot path; the tokens and the
 * in-flight slot are settled after the response, off it. Throws
 * RedisUnavailable when Redis cannot answer within its bound (the caller
 * falls back to the pod's own limits).
 */
export class RedisRateLimits implements RateLimiter {
  constructor(
    private readonly link: RedisLink,
    private readonly onRefuse: (scope: LimitScope["kind"]) => void = () => undefined,
    private readonly prefix = "tandem:limits",
  ) {}

  async admit(scopes: readonly LimitScope[]): Promise<Admission> {
    const limited = limitedScopes(scopes);
    if (limited.length === 0) return { done: () => undefined };
    const id = randomUUID();
    const keys = limited.flatMap((scope) => this.keys(scope));
    const args = [Date.now(), WINDOW_S * 1000, id, LEASE_MS, ...limited.flatMap((s) => [s.rpm ?? -1, s.tpm ?? -1, s.maxParallel ?? -1])];
    const reply = (await this.link.run("rate-limit", (redis) => ADMIT.run(redis, keys, args))) as AdmitReply;
    if (reply[0] !== 0) {
      const [index, limit, used, retryAfterMs] = reply as [number, "par" | "tpm" | "rpm", number, number];
      const scope = limited[index - 1]!;
      this.onRefuse(scope.kind);
      const what =
        limit === "par"
          ? `max_parallel_requests ${scope.maxParallel} (${used} in flight)`
          : limit === "tpm"
            ? `tpm_limit ${scope.tpm} (${used} tokens this minute)`
            : `rpm_limit ${scope.rpm}`;
      throw rateLimitError(scope, what, Number(retryAfterMs));
    }
    let finished = false;
    return {
      done: (tokens) => {
        if (finished) return;
        finished = true;
        // Off the request path; a failure here costs accuracy, never a request (an in-flight slot
        // left behind is freed when its lease runs out).
        void this.settlements.add({ id, tokens, scopes: limited }).catch(() => undefined);
      },
    };
  }

  private readonly settlements = new Batcher<Settlement>((batch) => {
    const keys: string[] = [];
    const args: Array<string | number> = [WINDOW_S * 1000];
    for (const { id, tokens, scopes } of batch) {
      keys.push(...scopes.flatMap((scope) => this.keys(scope).slice(1)));
      args.push(id, tokens, scopes.length, ...scopes.flatMap((s) => [s.tpm !== null ? 1 : 0, s.maxParallel !== null ? 1 : 0]));
    }
    return this.link.settle("rate-limit-settle", (redis) => SETTLE.run(redis, keys, args));
  });

  private keys(scope: LimitScope): string[] {
    const name = scopeName(scope);
    return [`${this.prefix}:rpm:${name}`, `${this.prefix}:tpm:${name}`, `${this.prefix}:par:${name}`];
  }
}

/**
 * The fleet's limits while Redis answers, this pod's own while it does not:
 * a request is never failed or held by Redis. An admission is settled by
 * whichever store admitted it.
 */
export class FleetRateLimits implements RateLimiter {
  constructor(
    private readonly shared: RedisRateLimits,
    private readonly local: RateLimiter,
    private readonly link: RedisLink,
  ) {}

  async admit(scopes: readonly LimitScope[]): Promise<Admission> {
    if (!this.link.usable) return this.local.admit(scopes);
    try {
      return await this.shared.admit(scopes);
    } catch (error) {
      if (error instanceof RedisUnavailable) return this.local.admit(scopes);
      throw error;
    }
  }
}
