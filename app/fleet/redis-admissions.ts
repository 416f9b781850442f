import { budgetHeld, budgetSpent, type BudgetScope } from "../services/billing/budget-reservations.js";
import type { ApiError } from "../services/errors.js";
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
// Requests alike in every argument (one hot key's, mostly) come as one group with a count: their
// arguments cross into Lua once.
//   KEYS: this pod's set of scopes, then per group and scope: its hash, its written-batches ledger
//   ARGV: now (ms), window (ms), pod, scope TTL (ms), then per group: requests, scope count, then per
//         scope: rpm, tpm, max parallel, max budget (-1: none), spent as this pod counts it, read
//         position ('' unknown), estimate ('' none), 1 to (re)join the pod's set and renew the hash's lifetime
// Returns per group {admitted, {amount reserved per admitted request and scope…}, refusal of the
// others ({} if none): {scope index (1-based), what, used, retry-after ms}}. Counts only grow within
// a call, so once one request of a group is refused the rest are, for the same reason.
const ADMIT = new RedisScript(`
local now, window, pod, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local parF, heldF = 'par:' .. pod, 'held:' .. pod
local hashes, sums, changed, touched, ledgers = {}, {}, {}, {}, {}
-- A scope's hash, and the fleet's totals in it (every pod's in flight, unwritten spend, reserved), read once per call.
local function read(key)
  local h = hashes[key]
  if not h then
    h = {}
    local t = { par = 0, pend = 0, held = 0 }
    local flat = redis.call('HGETALL', key)
    for j = 1, #flat, 2 do
      local f, v = flat[j], flat[j + 1]
      h[f] = v
      local kind = string.match(f, '^(%a+):')
      if kind and t[kind] then t[kind] = t[kind] + tonumber(v) end
    end
    hashes[key], sums[key] = h, t
  end
  return h, sums[key]
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
-- A group's scopes, their arguments parsed once.
local function parse(a, k, n)
  local specs = {}
  for i = 0, n - 1 do
    local b = a + i * 8
    specs[i + 1] = {
      key = KEYS[k + i * 2], ledger = KEYS[k + i * 2 + 1],
      rpm = tonumber(ARGV[b]), tpm = tonumber(ARGV[b + 1]), par = tonumber(ARGV[b + 2]), max = tonumber(ARGV[b + 3]),
      spent = tonumber(ARGV[b + 4]), pos = ARGV[b + 5], est = tonumber(ARGV[b + 6]), touch = ARGV[b + 7] == '1',
    }
  end
  return specs
end
local function minute(h, name)
  local ends = tonumber(h[name .. '_end'] or '0')
  return ends > now and tonumber(h[name] or '0') or 0, ends
end
-- The fleet's spend in a scope: the pod's read, batches written since it, every pod's unwritten spend.
local function spentIn(sc, t)
  return sc.spent + (sc.pos ~= '' and since(sc.ledger, sc.pos) or 0) + t.pend
end
-- Why the next request would be refused (checks in order: in flight, tokens, requests, budget), or nil.
local function refusal(specs)
  for i, sc in ipairs(specs) do
    local h, t = read(sc.key)
    if sc.par >= 0 and t.par >= sc.par then return {i, 'par', t.par, 1000} end
    if sc.tpm >= 0 then
      local used, ends = minute(h, 'tpm')
      if used >= sc.tpm then return {i, 'tpm', used, ends - now} end
    end
    if sc.rpm >= 0 then
      local used, ends = minute(h, 'rpm')
      if used >= sc.rpm then return {i, 'rpm', used, ends - now} end
    end
    if sc.max >= 0 then
      local spent = spentIn(sc, t)
      if spent >= sc.max then return {i, 'spent', tostring(spent)} end
      if t.held > 0 and (not sc.est or sc.est > sc.max - spent - t.held) then return {i, 'held', tostring(spent)} end
    end
  end
  return nil
end
-- Admits as many of a group's requests as every scope has room for, at once.
local function admit(specs, copies)
  local k = copies
  for _, sc in ipairs(specs) do
    local h, t = read(sc.key)
    if sc.par >= 0 then k = math.min(k, sc.par - t.par) end
    if sc.tpm >= 0 and minute(h, 'tpm') >= sc.tpm then k = 0 end
    if sc.rpm >= 0 then k = math.min(k, sc.rpm - minute(h, 'rpm')) end
    if sc.max >= 0 then
      local spent = spentIn(sc, t)
      if spent >= sc.max then
        k = 0
      elseif sc.est then
        local j, held = 0, t.held
        while j < k and (held == 0 or sc.est <= sc.max - spent - held) do held, j = held + sc.est, j + 1 end
        k = j
      elseif t.held > 0 then
        k = 0
      else
        k = math.min(k, 1)
      end
    end
  end
  k = math.max(0, k)
  local amounts = {}
  if k == 0 then return 0, amounts end
  for i, sc in ipairs(specs) do
    local h, t = read(sc.key)
    local set = changed[sc.key] or {}
    changed[sc.key] = set
    if sc.par >= 0 then
      t.par = t.par + k
      set[parF] = tonumber(h[parF] or '0') + k
      h[parF] = tostring(set[parF])
    end
    if sc.rpm >= 0 then
      local used, ends = minute(h, 'rpm')
      set.rpm = used + k
      h.rpm = tostring(set.rpm)
      if ends <= now then set.rpm_end = now + window; h.rpm_end = tostring(set.rpm_end) end
    end
    local amount = 0
    if sc.max >= 0 then
      amount = sc.est or math.max(0, sc.max - spentIn(sc, t) - t.held)
      -- Added one at a time, as the room for them was counted: the totals agree to the last digit.
      local mine = tonumber(h[heldF] or '0')
      for _ = 1, k do t.held, mine = t.held + amount, mine + amount end
      set[heldF] = tostring(mine)
      h[heldF] = set[heldF]
    end
    amounts[i] = tostring(amount)
  end
  local all = {}
  for _ = 1, k do for i = 1, #specs do table.insert(all, amounts[i]) end end
  return k, all
end
local replies, a, k = {}, 5, 2
while a <= #ARGV do
  local copies, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local specs = parse(a + 2, k, n)
  -- Every scope the pod uses is renewed and joins its set, admitted or not: its fields there must leave with it.
  for _, sc in ipairs(specs) do if sc.touch then touched[sc.key] = true end end
  local admitted, amounts = admit(specs, copies)
  table.insert(replies, {admitted, amounts, admitted < copies and (refusal(specs) or {}) or {}})
  a, k = a + 2 + n * 8, k + n * 2
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
  /** Per scope: until when the fleet's minute is full (rpm or tpm), as the last refusal said. */
  private readonly full = new Map<string, number>();

  /**
   * A 429 for a request whose scope the fleet said was full this minute, if any: a pod that must
   * decide alone keeps refusing it rather than serve its share on top of what the fleet served.
   */
  fullFor(request: AdmissionRequest): ApiError | undefined {
    const now = Date.now();
    for (const limit of request.limits) {
      const until = this.full.get(`${limit.kind}:${limit.id}`);
      if (until === undefined) continue;
      if (until <= now) this.full.delete(`${limit.kind}:${limit.id}`);
      else return rateLimitError(limit, "the fleet's count for this minute (Redis is unavailable)", until - now);
    }
    return undefined;
  }

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
    const scope = scopes[index - 1];
    if (!scope) {
      // Refused without a reason (it should not happen): a 429 to retry, never a 500.
      const budget = scopes.find((s) => s.budget)?.budget;
      return budget ? budgetHeld(budget) : rateLimitError(scopes.find((s) => s.limit)!.limit!, "limits", 1000);
    }
    if (what === "spent" || what === "held") {
      const budget = scope.budget!;
      return what === "spent" ? budgetSpent(budget, Number(reply[2])) : budgetHeld(budget);
    }
    const limit = scope.limit!;
    const [, , used, retryAfterMs] = reply as [number, string, number, number];
    this.onRefuse(limit.kind);
    if (what !== "par") this.full.set(scope.name, Date.now() + Number(retryAfterMs));
    const text =
      what === "par"
        ? `max_parallel_requests ${limit.maxParallel} (${used} in flight)`
        : what === "tpm"
          ? `tpm_limit ${limit.tpm} (${used} tokens this minute)`
          : `rpm_limit ${limit.rpm}`;
    return rateLimitError(limit, text, Number(retryAfterMs));
  }

  private readonly admissions = new Batcher<{ scopes: Counted[]; estimate: number | undefined }, Reply>(async (batch) => {
    // Requests alike in every argument go as one group; each gets its own answer back.
    const groups = new Map<
      string,
      { names: string[]; args: Array<string | number>; keys: string[]; members: number[]; touch: boolean[] }
    >();
    batch.forEach(({ scopes, estimate }, index) => {
      const args: Array<string | number> = [];
      const keys: string[] = [];
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
        );
      }
      const signature = `${keys.join(" ")}|${args.join(" ")}`;
      const group =
        groups.get(signature) ??
        groups.set(signature, { names: scopes.map((s) => s.name), args, keys, members: [], touch: [] }).get(signature)!;
      group.members.push(index);
    });
    const keys: string[] = [FLEET_KEYS.scopesOf(this.outbox.pod)];
    const args: Array<string | number> = [Date.now(), WINDOW_S * 1000, this.outbox.pod, SCOPE_TTL_MS];
    for (const group of groups.values()) {
      keys.push(...group.keys);
      args.push(group.members.length, group.names.length);
      group.names.forEach((name, i) => args.push(...group.args.slice(i * 7, i * 7 + 7), this.outbox.touches.due(name) ? 1 : 0));
    }
    let replies: Array<[number, string[], Reply | []]>;
    try {
      replies = (await this.link.run("admit", (redis) => ADMIT.run(redis, keys, args))) as typeof replies;
    } catch (error) {
      // What this call was to renew is renewed by the next one.
      for (const group of groups.values()) for (const name of group.names) this.outbox.touches.forget(name);
      throw error;
    }
    const answers: Reply[] = [];
    [...groups.values()].forEach((group, g) => {
      const [admitted, amounts, refusal] = replies[g]!;
      const n = group.names.length;
      group.members.forEach((index, copy) => {
        answers[index] = copy < admitted ? (["0", ...amounts.slice(copy * n, copy * n + n)] as Reply) : (refusal as Reply);
      });
    });
    return answers;
  });
}
