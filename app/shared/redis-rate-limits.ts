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
import type { RedisLink } from "./redis-link.js";
import { Batcher } from "./batcher.js";
import { RedisScript } from "./redis-script.js";

// One round trip admits or refuses the requests that arrived in one turn of the event loop, each
// against every limit of every scope of its own, atomically and in order: check all, then count
// all. A refusal counts nothing.
//   KEYS, per request and scope: rpm counter, tpm counter, in-flight set
//   ARGV: now (ms), window (ms), in-flight lease (ms), then per request: id, scope count, per scope: rpm, tpm, max parallel (-1: none)
// Returns per request {0} when admitted, or {scope index (1-based), limit, used, retry-after ms}.
// In-flight requests are a sorted set scored by when their lease ends, so a
// pod that dies with requests in flight frees its slots when the lease runs out.
const ADMIT = new RedisScript(`
local now, window, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local function admit(id, n, a, k)
  for i = 0, n - 1 do
    local rpm, tpm, par = tonumber(ARGV[a + i * 3]), tonumber(ARGV[a + 1 + i * 3]), tonumber(ARGV[a + 2 + i * 3])
    local rk, tk, pk = KEYS[k + i * 3], KEYS[k + 1 + i * 3], KEYS[k + 2 + i * 3]
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
    local rpm, par = tonumber(ARGV[a + i * 3]), tonumber(ARGV[a + 2 + i * 3])
    if rpm >= 0 then
      if redis.call('INCR', KEYS[k + i * 3]) == 1 then redis.call('PEXPIRE', KEYS[k + i * 3], window) end
    end
    if par >= 0 then
      redis.call('ZADD', KEYS[k + 2 + i * 3], now + lease, id)
      redis.call('PEXPIRE', KEYS[k + 2 + i * 3], lease)
    end
  end
  return {0}
end
local replies, a, k = {}, 4, 1
while a <= #ARGV do
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  table.insert(replies, admit(id, n, a + 2, k))
  a, k = a + 2 + n * 3, k + n * 3
end
return replies
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

/** One request's part in a batched call: its id and the scopes it counts against. */
interface Settlement {
  id: string;
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
    let reply: AdmitReply;
    try {
      reply = await this.admissions.add({ id, scopes: limited });
    } catch (error) {
      // Past its bound the script may still have run: free what it may have taken (the pod falls
      // back to its own limits for this request) rather than hold a slot until the lease ends.
      void this.settlements.add({ id, tokens: 0, scopes: limited }).catch(() => undefined);
      throw error;
    }
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
        // INCRBY takes integers only; an upstream's odd usage must not fail the batch.
        const counted = Number.isFinite(tokens) ? Math.max(0, Math.round(tokens)) : 0;
        void this.settlements.add({ id, tokens: counted, scopes: limited }).catch(() => undefined);
      },
    };
  }

  private readonly admissions = new Batcher<Settlement, AdmitReply>(async (batch) => {
    const keys: string[] = [];
    const args: Array<string | number> = [Date.now(), WINDOW_S * 1000, LEASE_MS];
    for (const { id, scopes } of batch) {
      keys.push(...scopes.flatMap((scope) => this.keys(scope)));
      args.push(id, scopes.length, ...scopes.flatMap((s) => [s.rpm ?? -1, s.tpm ?? -1, s.maxParallel ?? -1]));
    }
    return (await this.link.run("rate-limit", (redis) => ADMIT.run(redis, keys, args))) as AdmitReply[];
  });

  private readonly settlements = new Batcher<Settlement & { tokens: number }>(async (batch) => {
    const keys: string[] = [];
    const args: Array<string | number> = [WINDOW_S * 1000];
    for (const { id, tokens, scopes } of batch) {
      keys.push(...scopes.flatMap((scope) => this.keys(scope).slice(1)));
      args.push(id, tokens, scopes.length, ...scopes.flatMap((s) => [s.tpm !== null ? 1 : 0, s.maxParallel !== null ? 1 : 0]));
    }
    await this.link.settle("rate-limit-settle", (redis) => SETTLE.run(redis, keys, args));
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

  admit(scopes: readonly LimitScope[]): Promise<Admission> {
    return this.link.orLocal(
      () => this.shared.admit(scopes),
      () => this.local.admit(scopes),
    );
  }
}
