import { randomUUID } from "node:crypto";
import {
  budgetHeld,
  budgetSpent,
  type BudgetReservations,
  type BudgetScope,
  type Budgets,
  type Release,
} from "../services/billing/budget-reservations.js";
import type { CostEstimates } from "../services/billing/cost-estimates.js";
import type { RedisLink } from "./redis-link.js";
import { RedisScript } from "./redis-script.js";
import { SPEND_KEYS } from "./redis-spend-ledger.js";

// Admits a request against every budget scope at once, counting what the whole fleet has spent
// that the pod's read of the spend does not include, and what the fleet's requests in flight hold.
//   KEYS: the set of pods holding spend, then per scope: reservations (zset id → lease end), their amounts (hash id → amount),
//         the scope's written ledger (zset of "<written at ms>|<sum>|<batch>" scored by commit position, -1 when unknown)
//   ARGV: now (ms), request id, lease (ms), pending-sums key prefix, then per scope:
//         scope name, max budget, spent as this pod counts it, read position ('' when unknown), read at (ms), estimate ('' when none)
// Each pod's pending sums (hash scope → Σ cost of its acknowledged, unwritten spend) are read by name from
// the pods set, so this script needs one Redis, not a cluster.
// Returns {0} when admitted, or {scope index (1-based), 'spent' | 'held', spent as the fleet counts it}.
const ADMIT = new RedisScript(`
local now, id, lease, pendPrefix = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local pods = redis.call('SMEMBERS', KEYS[1])
local n = (#KEYS - 1) / 3
local estimates = {}
for i = 0, n - 1 do
  local heldKey, amountsKey, writtenKey = KEYS[2 + i * 3], KEYS[3 + i * 3], KEYS[4 + i * 3]
  local a = 5 + i * 6
  local scope, max, spent, lsn, readAt, estimate = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3], tonumber(ARGV[a + 4]), ARGV[a + 5]
  local expired = redis.call('ZRANGEBYSCORE', heldKey, '-inf', now)
  for _, member in ipairs(expired) do redis.call('HDEL', amountsKey, member) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', heldKey, '-inf', now) end
  local held = 0
  for _, member in ipairs(redis.call('ZRANGE', heldKey, 0, -1)) do held = held + tonumber(redis.call('HGET', amountsKey, member) or '0') end
  -- Batches after the read: by commit position when both are known, else by time.
  if lsn ~= '' then
    for _, entry in ipairs(redis.call('ZRANGEBYSCORE', writtenKey, '(' .. lsn, '+inf')) do
      spent = spent + tonumber(string.match(entry, '^[^|]+|([^|]+)|'))
    end
  end
  for _, entry in ipairs(redis.call('ZRANGEBYSCORE', writtenKey, lsn == '' and '-inf' or -1, lsn == '' and '+inf' or -1)) do
    local at, sum = string.match(entry, '^([^|]+)|([^|]+)|')
    if tonumber(at) >= readAt then spent = spent + tonumber(sum) end
  end
  for _, pod in ipairs(pods) do spent = spent + tonumber(redis.call('HGET', pendPrefix .. pod, scope) or '0') end
  if spent >= max then return {i + 1, 'spent', tostring(spent)} end
  local remaining = max - spent - held
  local amount = tonumber(estimate) or math.max(0, remaining)
  if held > 0 and (estimate == '' or amount > remaining) then return {i + 1, 'held', tostring(spent)} end
  estimates[i + 1] = amount
end
for i = 0, n - 1 do
  redis.call('ZADD', KEYS[2 + i * 3], now + lease, id)
  redis.call('HSET', KEYS[3 + i * 3], id, estimates[i + 1])
  redis.call('PEXPIRE', KEYS[2 + i * 3], lease)
  redis.call('PEXPIRE', KEYS[3 + i * 3], lease)
end
return {0}
`);

//   KEYS, per scope: reservations, amounts   ARGV: request id
const RELEASE = new RedisScript(`
for i = 0, #KEYS / 2 - 1 do
  redis.call('ZREM', KEYS[1 + i * 2], ARGV[1])
  redis.call('HDEL', KEYS[2 + i * 2], ARGV[1])
end
return 0
`);

type AdmitReply = [0] | [number, "spent" | "held", string];

/** How long a reservation may outlive a pod that died holding it. */
const LEASE_MS = 10 * 60_000;

/**
 * Budget reservations for the whole fleet: a request reserves its expected
 * cost in Redis, and is checked against the spend it read plus everything
 * the fleet recorded since that read — every pod's acknowledged, unwritten
 * spend, and batches written after the read's replay position — plus every
 * pod's reservations. Concurrent requests over any number of pods overshoot
 * a budget by at most one request's deviation from its estimate. Throws
 * RedisUnavailable when Redis cannot answer within its bound.
 */
export class RedisBudgets implements Budgets {
  constructor(
    private readonly link: RedisLink,
    private readonly estimates: CostEstimates,
    private readonly prefix = "tandem:budget",
  ) {}

  async admit(scopes: readonly BudgetScope[], costKey: string): Promise<Release> {
    if (scopes.length === 0) return () => undefined;
    const id = randomUUID();
    const estimate = this.estimates.get(costKey);
    const keys = [SPEND_KEYS.pods, ...scopes.flatMap((scope) => [...this.reservationKeys(scope), SPEND_KEYS.written(scopeName(scope))])];
    const args = [
      Date.now(),
      id,
      LEASE_MS,
      SPEND_KEYS.pendingPrefix,
      ...scopes.flatMap((scope) => [
        scopeName(scope),
        scope.maxBudget,
        scope.spent - scope.mirrored,
        scope.readAt.lsn?.toString() ?? "",
        scope.readAt.at,
        estimate ?? "",
      ]),
    ];
    const held = scopes.flatMap((scope) => this.reservationKeys(scope));
    const release = () => void this.link.settle("budget-release", (redis) => RELEASE.run(redis, held, [id])).catch(() => undefined);
    let reply: AdmitReply;
    try {
      reply = (await this.link.run("budget", (redis) => ADMIT.run(redis, keys, args))) as AdmitReply;
    } catch (error) {
      // Past its bound the script may still have run: its reservation goes now, not with its lease.
      release();
      throw error;
    }
    if (reply[0] !== 0) {
      const [index, why, spent] = reply as [number, "spent" | "held", string];
      const scope = scopes[index - 1]!;
      throw why === "spent" ? budgetSpent(scope, Number(spent)) : budgetHeld(scope);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // After this turn of the event loop: the request's spend, held in the same turn (batched), then
      // reaches Redis first on the same connection, so no admission sees neither. A reservation left
      // behind by a failed call ends with its lease.
      setImmediate(release);
    };
  }

  private reservationKeys(scope: BudgetScope): string[] {
    const name = scopeName(scope);
    return [`${this.prefix}:held:${name}`, `${this.prefix}:amounts:${name}`];
  }
}

function scopeName(scope: BudgetScope): string {
  return `${scope.kind}:${scope.id}`;
}

/**
 * The fleet's budgets while Redis answers, this pod's own while it does not:
 * a request is never failed or held by Redis (a pod on its own counts only
 * the spend it knows of, so a Redis outage can overshoot by up to the pod
 * count, as without Redis).
 */
export class FleetBudgets implements Budgets {
  constructor(
    private readonly shared: RedisBudgets,
    private readonly local: BudgetReservations,
    private readonly link: RedisLink,
  ) {}

  admit(scopes: readonly BudgetScope[], costKey: string): Promise<Release> {
    return this.link.orLocal(
      () => this.shared.admit(scopes, costKey),
      () => this.local.reserve(scopes, costKey),
    );
  }
}
