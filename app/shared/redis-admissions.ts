import { budgetHeld, budgetSpent, type BudgetScope } from "../services/billing/budget-reservations.js";
import type { CostEstimates } from "../services/billing/cost-estimates.js";
import { rateLimitError, WINDOW_S, type LimitScope } from "../services/access/rate-limits.js";
import { FREE, type AdmissionRequest, type Admissions, type Ticket } from "../services/access/admission.js";
import { FLEET_KEYS, SCOPE_TTL_MS } from "./fleet-keys.js";
import type { FleetOutbox } from "./fleet-outbox.js";
import type { RedisLink } from "./redis-link.js";
import { Batcher } from "./batcher.js";
import { RedisScript } from "./redis-script.js";

// Admits the requests that arrived in one turn of the event loop, each against every scope of its
// own, atomically and in order: check all its scopes, then count all. A refusal counts nothing.
// Each scope's hash is read once (HGETALL) and written once (HSET) per call, however many of the
// turn's requests count against it; a budget's batches written after the pod's read of the spend
// are read once per read position (ZRANGEBYSCORE).
//   KEYS: this pod's set of scopes, then per request and scope: its hash, its written-batches ledger
//   ARGV: now (ms), window (ms), pod, scope TTL (ms), then per request: scope count, then per scope:
//         rpm, tpm, max parallel, max budget (-1: none), spent as this pod counts it, read position
//         ('' unknown), estimate ('' none), 1 to (re)join the pod's set and renew the hash's lifetime
// Returns per request {0, amount reserved per scope…} or {scope index (1-based), what, used, retry-after ms}.
const ADMIT = new RedisScript(`
local now, window, pod, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local parF, heldF = 'par:' .. pod, 'held:' .. pod
local hashes, changed, touched, ledgers = {}, {}, {}, {}
local function read(key)
  local h = hashes[key]
  if not h then
    h = {}
    local flat = redis.call('HGETALL', key)
    for j = 1, #flat, 2 do h[flat[j]] = flat[j + 1] end
    hashes[key] = h
  end
  return h
end
local function since(ledger, pos)
  local id = ledger .. '@' .. pos
  if not ledgers[id] then
    local s = 0
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', ledger, '(' .. pos, '+inf')) do s = s + tonumber(string.match(m, '^[^|]+')) end
    ledgers[id] = s
  end
  return ledgers[id]
end
local function total(h, prefix)
  local s = 0
  for f, v in pairs(h) do if string.sub(f, 1, #prefix) == prefix then s = s + tonumber(v) end end
  return s
end
local function admit(a, k, n)
  local plan = {}
  for i = 0, n - 1 do
    local b = a + i * 8
    local rpm, tpm, par, max = tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
    local spent, pos, est = tonumber(ARGV[b + 4]), ARGV[b + 5], ARGV[b + 6]
    local key = KEYS[k + i * 2]
    local h = read(key)
    local p = { key = key, touch = ARGV[b + 7] == '1', amount = 0, set = {} }
    if par >= 0 then
      local running = total(h, 'par:')
      if running >= par then return {i + 1, 'par', running, 1000} end
      p.set[parF] = tonumber(h[parF] or '0') + 1
    end
    if tpm >= 0 then
      local ends = tonumber(h.tpm_end or '0')
      local used = ends > now and tonumber(h.tpm or '0') or 0
      if used >= tpm then return {i + 1, 'tpm', used, ends - now} end
    end
    if rpm >= 0 then
      local ends = tonumber(h.rpm_end or '0')
      local used = ends > now and tonumber(h.rpm or '0') or 0
      if used >= rpm then return {i + 1, 'rpm', used, ends - now} end
      p.set.rpm = used + 1
      if ends <= now then p.set.rpm_end = now + window end
    end
    if max >= 0 then
      if pos ~= '' then spent = spent + since(KEYS[k + i * 2 + 1], pos) end
      spent = spent + total(h, 'pend:')
      if spent >= max then return {i + 1, 'spent', tostring(spent)} end
      local held = total(h, 'held:')
      local remaining = max - spent - held
      local amount = tonumber(est) or math.max(0, remaining)
      if held > 0 and (est == '' or amount > remaining) then return {i + 1, 'held', tostring(spent)} end
      p.amount = amount
      p.set[heldF] = tostring(tonumber(h[heldF] or '0') + amount)
    end
    plan[i + 1] = p
  end
  local reply = {0}
  for i, p in ipairs(plan) do
    local h = hashes[p.key]
    changed[p.key] = changed[p.key] or {}
    for f, v in pairs(p.set) do
      h[f] = tostring(v)
      changed[p.key][f] = v
    end
    if p.touch then touched[p.key] = true end
    reply[i + 1] = tostring(p.amount)
  end
  return reply
end
local replies, a, k = {}, 5, 2
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  table.insert(replies, admit(a + 1, k, n))
  a, k = a + 1 + n * 8, k + n * 2
end
for key, set in pairs(changed) do
  local fields = {}
  for f, v in pairs(set) do table.insert(fields, f); table.insert(fields, v) end
  if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
end
for key in pairs(touched) do
  redis.call('PEXPIRE', key, ttl)
  redis.call('SADD', KEYS[1], key)
end
return replies
`);

type Reply = ["0" | 0, ...string[]] | [number, "par" | "tpm" | "rpm", number, number] | [number, "spent" | "held", string];

/** One scope of a request as the script sees it: its limits, its budget, or both. */
interface Counted {
  name: string;
  limit?: LimitScope;
  budget?: BudgetScope;
}

/** A request's scopes, by name: a key with rpm_limit and max_budget is one scope with both. */
function countedScopes(request: AdmissionRequest): Counted[] {
  const byName = new Map<string, Counted>();
  const at = (name: string) => byName.get(name) ?? byName.set(name, { name }).get(name)!;
  for (const limit of request.limits)
    if (limit.rpm !== null || limit.tpm !== null || limit.maxParallel !== null) at(`${limit.kind}:${limit.id}`).limit = limit;
  for (const budget of request.budgets) at(`${budget.kind}:${budget.id}`).budget = budget;
  return [...byName.values()];
}

/**
 * rpm, tpm, max_parallel_requests and budgets counted in Redis for the whole
 * fleet, in one round trip per request (one script call for every request of
 * an event-loop turn). What an admitted request took is given back through
 * the fleet's outbox when it ends, with its spend, in one call for every
 * request ending in the same turn. Throws RedisUnavailable when Redis cannot
 * answer within its bound (the caller counts on its own).
 */
export class RedisAdmissions implements Admissions {
  /** Per scope: this pod's requests admitted or being admitted, not yet done. */
  private readonly busy = new Map<string, number>();

  constructor(
    private readonly link: RedisLink,
    private readonly outbox: FleetOutbox,
    private readonly estimates: CostEstimates,
    private readonly onRefuse: (scope: LimitScope["kind"]) => void = () => undefined,
  ) {}

  async admit(request: AdmissionRequest): Promise<Ticket> {
    const scopes = countedScopes(request);
    if (scopes.length === 0) return FREE;
    const estimate = this.estimates.get(request.costKey);
    for (const scope of scopes) this.busy.set(scope.name, (this.busy.get(scope.name) ?? 0) + 1);
    let reply: Reply;
    try {
      reply = await this.admissions.add({ scopes, estimate });
    } catch (error) {
      // Past its bound the script may still have run: give back what it would have taken.
      this.end(scopes, () => ({ par: -1, held: -(estimate ?? 0), tokens: 0 }));
      throw error;
    }
    if (Number(reply[0]) !== 0) {
      this.end(scopes, () => undefined);
      throw this.refusal(scopes, reply);
    }
    const amounts = (reply as string[]).slice(1).map(Number);
    let finished = false;
    return {
      done: (tokens) => {
        if (finished) return;
        finished = true;
        // Counted in whole tokens; an upstream's odd usage must not fail the batch.
        const counted = Number.isFinite(tokens) ? Math.max(0, Math.round(tokens)) : 0;
        this.end(scopes, (i) => ({ par: -1, held: -amounts[i]!, tokens: counted }));
      },
    };
  }

  /**
   * A request the pod admitted alone (Redis did not answer in time) joins the fleet's count as soon
   * as Redis takes it: its request now, its tokens when it ends. A slow Redis runs the call late;
   * pods counting with the fleet afterwards then find the minute's requests their shares served.
   */
  alone(request: AdmissionRequest): Ticket {
    const scopes = countedScopes(request).filter(({ limit }) => limit && (limit.rpm !== null || limit.tpm !== null));
    for (const { name, limit } of scopes) if (limit!.rpm !== null) this.outbox.settle(name, { par: 0, held: 0, tokens: 0, alone: 1 });
    return {
      done: (tokens) => {
        const counted = Number.isFinite(tokens) ? Math.max(0, Math.round(tokens)) : 0;
        if (counted > 0)
          for (const { name, limit } of scopes) if (limit!.tpm !== null) this.outbox.settle(name, { par: 0, held: 0, tokens: counted });
      },
    };
  }

  /**
   * What a request gives back per scope, through the outbox. A scope with nothing of this pod's in
   * flight any more has its fields set to zero rather than decremented: a count that drifted (a
   * timed-out admission that did or did not run) is exact again as soon as the pod is idle there.
   */
  private end(scopes: Counted[], back: (i: number) => { par: number; held: number; tokens: number } | undefined): void {
    scopes.forEach((scope, i) => {
      const left = (this.busy.get(scope.name) ?? 1) - 1;
      if (left > 0) this.busy.set(scope.name, left);
      else this.busy.delete(scope.name);
      const given = back(i);
      if (!given && left > 0) return;
      this.outbox.settle(
        scope.name,
        {
          par: scope.limit?.maxParallel != null ? (given?.par ?? 0) : 0,
          held: scope.budget ? (given?.held ?? 0) : 0,
          tokens: scope.limit?.tpm != null ? (given?.tokens ?? 0) : 0,
        },
        () => !this.busy.has(scope.name),
      );
    });
  }

  private refusal(scopes: Counted[], reply: Reply) {
    const [index, what] = reply as [number, string];
    const scope = scopes[index - 1]!;
    if (what === "spent" || what === "held") {
      const budget = scope.budget!;
      return what === "spent" ? budgetSpent(budget, Number(reply[2])) : budgetHeld(budget);
    }
    const limit = scope.limit!;
    const [, , used, retryAfterMs] = reply as [number, string, number, number];
    this.onRefuse(limit.kind);
    const text =
      what === "par"
        ? `max_parallel_requests ${limit.maxParallel} (${used} in flight)`
        : what === "tpm"
          ? `tpm_limit ${limit.tpm} (${used} tokens this minute)`
          : `rpm_limit ${limit.rpm}`;
    return rateLimitError(limit, text, Number(retryAfterMs));
  }

  private readonly admissions = new Batcher<{ scopes: Counted[]; estimate: number | undefined }, Reply>(async (batch) => {
    const keys: string[] = [FLEET_KEYS.scopesOf(this.outbox.pod)];
    const args: Array<string | number> = [Date.now(), WINDOW_S * 1000, this.outbox.pod, SCOPE_TTL_MS];
    for (const { scopes, estimate } of batch) {
      args.push(scopes.length);
      for (const { name, limit, budget } of scopes) {
        const lsn = budget?.readAt.lsn;
        keys.push(FLEET_KEYS.scope(name), lsn !== undefined || !budget ? FLEET_KEYS.written(name) : FLEET_KEYS.writtenAt(name));
        args.push(
          limit?.rpm ?? -1,
          limit?.tpm ?? -1,
          limit?.maxParallel ?? -1,
          budget?.maxBudget ?? -1,
          budget ? budget.spent - budget.mirrored : 0,
          budget ? (lsn?.toString() ?? String(budget.readAt.at)) : "",
          budget && estimate !== undefined ? estimate : "",
          this.outbox.touches.due(name) ? 1 : 0,
        );
      }
    }
    return (await this.link.run("admit", (redis) => ADMIT.run(redis, keys, args))) as Reply[];
  });
}
