import { WINDOW_S } from "../services/access/rate-limits.js";
import { FLEET_KEYS, SCOPE_TTL_MS, Touches } from "./fleet-keys.js";
import type { RedisLink } from "./redis-link.js";
import { RedisScript } from "./redis-script.js";

// Everything a pod tells the fleet in one turn of the event loop, in one transaction: the spend
// entries it acknowledged (one HSET into its buffer, outside the script: copying entries through Lua
// was most of Redis's work), and per scope what its requests gave back
// (slots, reservations, tokens) and the spend they added. A scope with only spend added costs one
// HINCRBYFLOAT; one with more, one HMGET and one HSET, however many requests ended in the turn.
//   KEYS: the pod's set of scopes, the pod's buffer, then one hash per scope
//   ARGV: now (ms), window (ms), pod, scope TTL (ms), entry count, entries (id, JSON)…, then per scope:
//         Δ in flight, Δ reserved, tokens, Δ unwritten spend, requests admitted alone, 1 when the pod has
//         nothing in flight there, 1 to renew
const SETTLE = new RedisScript(`
local now, window, pod, ttl, m = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local parF, heldF, pendF = 'par:' .. pod, 'held:' .. pod, 'pend:' .. pod
-- Adds n to a minute's count (tpm, rpm): to the running minute, or as the first of a new one.
local function addToMinute(f, name, count, ends, n)
  table.insert(f, name)
  if tonumber(ends or '0') > now then
    table.insert(f, tonumber(count or '0') + n)
  else
    table.insert(f, n); table.insert(f, name .. '_end'); table.insert(f, now + window)
  end
end
if m > 0 then redis.call('HSET', KEYS[2], unpack(ARGV, 6, 5 + m * 2)) end
local a = 6 + m * 2
for k = 3, #KEYS do
  local par, held, tokens, pend = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local alone, idle, touch = tonumber(ARGV[a + 4]), ARGV[a + 5] == '1', ARGV[a + 6] == '1'
  a = a + 7
  local key = KEYS[k]
  if par == 0 and held == 0 and tokens == 0 and alone == 0 and not idle then
    if pend ~= 0 then redis.call('HINCRBYFLOAT', key, pendF, pend) end
  else
    local v = redis.call('HMGET', key, parF, heldF, pendF, 'tpm', 'tpm_end', 'rpm', 'rpm_end')
    local f = {}
    if idle then
      f = {parF, 0, heldF, 0}
    else
      if par ~= 0 then table.insert(f, parF); table.insert(f, math.max(0, tonumber(v[1] or '0') + par)) end
      if held ~= 0 then
        local h = tonumber(v[2] or '0') + held
        table.insert(f, heldF); table.insert(f, tostring(h < 1e-9 and 0 or h))
      end
    end
    if pend ~= 0 then table.insert(f, pendF); table.insert(f, tostring(tonumber(v[3] or '0') + pend)) end
    if tokens > 0 then addToMinute(f, 'tpm', v[4], v[5], tokens) end
    if alone > 0 then addToMinute(f, 'rpm', v[6], v[7], alone) end
    if #f > 0 then redis.call('HSET', key, unpack(f)) end
  end
  if touch then
    redis.call('PEXPIRE', key, ttl)
    redis.call('SADD', KEYS[1], key)
  end
end
return 1
`);

/** Past this many entries in one call, they go in a plain HSET beside the script. */
const ENTRIES_IN_SCRIPT = 8;

/** What requests ending in one turn gave back to a scope. */
export interface Given {
  /** Requests in flight (negative: ended). */
  par: number;
  /** Budget reserved (negative: released). */
  held: number;
  /** Tokens used, for the minute's tpm count. */
  tokens: number;
  /** Requests the pod admitted alone (Redis did not answer), for the minute's rpm count. */
  alone?: number;
}

interface ScopeChange extends Required<Given> {
  pend: number;
  /** Whether, when the call goes, the pod has nothing of its own in flight in the scope. */
  idle?: () => boolean;
}

interface Entry {
  id: string;
  json: string;
  cost: number;
  scopes: readonly string[];
}

/**
 * The pod's outbox to the fleet: holds and settlements gathered during one
 * turn of the event loop and sent as one script call — hundreds of requests
 * ending together cost Redis one call and a few commands per scope, not a
 * few per request. Nothing here is on a request's path: a call that fails
 * costs accuracy, never a request.
 */
export class FleetOutbox {
  readonly touches = new Touches();
  private entries: Entry[] = [];
  private changes = new Map<string, ScopeChange>();
  /** The call that will carry what is gathered now. */
  private next: { sent: Promise<boolean>; resolve: (sent: boolean) => void } | undefined;
  private inFlight = false;

  constructor(
    private readonly link: RedisLink,
    readonly pod: string,
  ) {}

  /** Holds an acknowledged spend entry in the pod's buffer and adds its cost to its scopes' unwritten spend; true once held. */
  hold(entry: Entry): Promise<boolean> {
    this.entries.push(entry);
    for (const scope of entry.scopes) this.change(scope).pend += entry.cost;
    return this.schedule();
  }

  /** Gives back what a request took in a scope. `idle` is asked when the call goes. */
  settle(scope: string, given: Given, idle?: () => boolean): void {
    const change = this.change(scope);
    change.par += given.par;
    change.held += given.held;
    change.tokens += given.tokens;
    change.alone += given.alone ?? 0;
    if (idle) change.idle = idle;
    void this.schedule();
  }

  private change(scope: string): ScopeChange {
    let change = this.changes.get(scope);
    if (!change) {
      change = { par: 0, held: 0, tokens: 0, pend: 0, alone: 0 };
      this.changes.set(scope, change);
    }
    return change;
  }

  // One call in flight at a time, as the Batcher does: what arrives meanwhile goes in the next call.
  private schedule(): Promise<boolean> {
    if (!this.next) {
      let resolve!: (sent: boolean) => void;
      this.next = { sent: new Promise<boolean>((r) => (resolve = r)), resolve };
      if (!this.inFlight) {
        this.inFlight = true;
        setImmediate(() => void this.drain());
      }
    }
    return this.next.sent;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const call = this.next;
      this.next = undefined;
      call.resolve(await this.send());
    }
    this.inFlight = false;
  }

  private async send(): Promise<boolean> {
    const entries = this.entries;
    const changes = this.changes;
    this.entries = [];
    this.changes = new Map();
    const buffer = FLEET_KEYS.buffer(this.pod);
    const keys = [FLEET_KEYS.scopesOf(this.pod), buffer];
    // A few entries ride in the script's call; many go in a plain HSET before it (copying them
    // through Lua was most of Redis's work), the two in one transaction.
    const inScript = entries.length <= ENTRIES_IN_SCRIPT ? entries : [];
    const args: Array<string | number> = [Date.now(), WINDOW_S * 1000, this.pod, SCOPE_TTL_MS, inScript.length];
    for (const entry of inScript) args.push(entry.id, entry.json);
    const before = entries.length > ENTRIES_IN_SCRIPT ? entries.flatMap((entry) => [entry.id, entry.json]) : [];
    for (const [scope, change] of changes) {
      keys.push(FLEET_KEYS.scope(scope));
      const idle = change.idle?.() ?? false;
      args.push(change.par, change.held, change.tokens, change.pend, change.alone, idle ? 1 : 0, this.touches.due(scope) ? 1 : 0);
    }
    const renewed = [...changes.keys()];
    // Settlements go even while Redis is degraded (a slot freed late beats one held for good).
    return this.link
      .settle("outbox", (redis) =>
        before.length > 0
          ? SETTLE.runAfter(redis, (multi) => void multi.hset(buffer, ...before), keys, args)
          : SETTLE.run(redis, keys, args),
      )
      .then(
        () => true,
        () => {
          for (const scope of renewed) this.touches.forget(scope);
          return false;
        },
      );
  }
}
