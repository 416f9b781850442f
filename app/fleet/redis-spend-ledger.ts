import type { Logger } from "../observability/logger.js";
import type { SpendMirror } from "../services/billing/spend-mirror.js";
import { spendScopes, type SpendWriter } from "../services/billing/spend-queue.js";
import type { SpendRecord } from "../services/billing/spend.js";
import type { RedisLink } from "./redis-link.js";
import { Batcher } from "./batcher.js";
import { FLEET_KEYS } from "./fleet-keys.js";
import type { FleetOutbox } from "./fleet-outbox.js";
import { RedisScript } from "./redis-script.js";

// Moves a scope's sum from the pod's unwritten spend (never below zero) to its ledgers of written
// batches: by commit position when known (reads that name theirs), and by time (reads that do not);
// a few entries past the retention are pruned each time.
const TO_LEDGER = `
local function toLedger(key, byPos, byTime, pod, pos, sum, batch, now, retain)
  if tonumber(redis.call('HINCRBYFLOAT', key, 'pend:' .. pod, -sum)) < 0 then redis.call('HSET', key, 'pend:' .. pod, 0) end
  local member = sum .. '|' .. batch .. '|' .. now
  local function add(ledger, score)
    redis.call('ZADD', ledger, score, member)
    redis.call('PEXPIRE', ledger, retain)
    for _, old in ipairs(redis.call('ZRANGE', ledger, 0, 4)) do
      if tonumber(string.match(old, '|(%d+)$')) < now - retain then redis.call('ZREM', ledger, old) end
    end
  end
  if pos ~= '' then add(byPos, pos) end
  add(byTime, now)
end
`;

// Entries that are in the database leave the pod's buffer, and their cost moves from their scopes'
// unwritten spend to each scope's ledger of written batches, where budget checks that read the spend
// before it find it. Entries no longer buffered (another pod wrote them first, or their hold failed)
// count nothing: the fleet never counted them. Ledger entries older than the retention go, a few at a time.
//   KEYS: buffer, then per scope: its hash, its ledger by commit position, its ledger by time
//   ARGV: now (ms), pod, commit position ('' unknown), batch id, retention (ms),
//         entry count, request ids…, then per entry: cost, its scopes' indices ("1,3")
const WRITTEN = new RedisScript(`${TO_LEDGER}
local now, pod, pos, batch, retain, n = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local held, gone = {}, {}
for c = 7, 6 + n, 1000 do
  for _, v in ipairs(redis.call('HMGET', KEYS[1], unpack(ARGV, c, math.min(c + 999, 6 + n)))) do table.insert(held, v) end
end
for i = 1, n do
  local cost = tonumber(ARGV[6 + n + i * 2 - 1])
  for s in string.gmatch(ARGV[6 + n + i * 2], '%d+') do
    local j = tonumber(s)
    if held[i] then gone[j] = (gone[j] or 0) + cost end
  end
end
local dropped = {}
for i = 1, n do if held[i] then table.insert(dropped, ARGV[6 + i]) end end
for c = 1, #dropped, 1000 do redis.call('HDEL', KEYS[1], unpack(dropped, c, math.min(c + 999, #dropped))) end
for j, sum in pairs(gone) do
  toLedger(KEYS[j * 3 - 1], KEYS[j * 3], KEYS[j * 3 + 1], pod, pos, sum, batch, now, retain)
end
return #dropped
`);

// The fast way for this pod's own entries whose holds it saw land: the pod sums their cost per scope
// and removes them from its buffer with a plain HDEL in the same transaction, so a batch of a
// thousand entries costs Redis a few commands, not a few per entry.
//   KEYS: the batch's applied marker, then per scope: its hash, its ledger by commit position, its ledger by time
//   ARGV: now (ms), pod, commit position ('' unknown), batch id, retention (ms), then per scope: Σ cost
const WRITTEN_SUMS = new RedisScript(`${TO_LEDGER}
local now, pod, pos, batch, retain = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
-- A batch retried after a call that timed out but ran moves nothing twice.
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', retain) then return 0 end
for j = 1, (#KEYS - 1) / 3 do
  toLedger(KEYS[j * 3 - 1], KEYS[j * 3], KEYS[j * 3 + 1], pod, pos, tonumber(ARGV[5 + j]), batch, now, retain)
end
return 1
`);

// Entries held again after their first hold failed (Redis was away): only those not held already
// count toward their scopes' unwritten spend.
//   KEYS: buffer, then per scope: its hash   ARGV: pod, entry count, then per entry: id, JSON, cost, its scopes' indices
const HOLD_AGAIN = new RedisScript(`
local pendF, n, a = 'pend:' .. ARGV[1], tonumber(ARGV[2]), 3
for i = 1, n do
  local id, json, cost, scopes = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  a = a + 4
  if redis.call('HSETNX', KEYS[1], id, json) == 1 then
    for s in string.gmatch(scopes, '%d+') do redis.call('HINCRBYFLOAT', KEYS[1 + tonumber(s)], pendF, cost) end
  end
end
return 1
`);

// Says a pod lives and tells who else does.
//   KEYS: pods   ARGV: pod, alive key prefix, alive for (ms)
// Returns {live pod count, dead pods…}.
const HEARTBEAT = new RedisScript(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', ARGV[2] .. ARGV[1], '1', 'PX', ARGV[3])
local reply = {0}
for _, pod in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[2] .. pod) == 1 then reply[1] = reply[1] + 1 else table.insert(reply, pod) end
end
return reply
`);

// A pod whose buffer is empty leaves the fleet: its fields in every scope it used go with it.
//   KEYS: pods, its buffer, its set of scopes   ARGV: pod
const LEAVE = new RedisScript(`
if redis.call('HLEN', KEYS[2]) > 0 then return 0 end
for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('HDEL', key, 'par:' .. ARGV[1], 'held:' .. ARGV[1], 'pend:' .. ARGV[1])
end
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[1], ARGV[1])
return 1
`);

export interface RedisSpendLedgerOptions {
  /** Sends this pod's holds (its name is the outbox's: unique per process, a restarted pod is a new one). */
  outbox: FleetOutbox;
  /** Writes entries to the database (idempotent per request id). */
  write: SpendWriter;
  log: Logger;
  /** How long written batches stay counted for budget reads that predate them. */
  retainMs: number;
  /** How often this pod says it lives and looks for dead pods' entries. */
  heartbeatMs?: number;
  /** Entries this pod wrote for a dead pod. */
  onRecovered?: (count: number) => void;
  /** Pods alive, at each heartbeat. */
  onLivePods?: (count: number) => void;
}

/**
 * The fleet's spend ledger in Redis (LiteLLM's Redis transaction buffer):
 * every acknowledged entry is held in Redis as well as in its pod's memory
 * until the database has it. A pod killed during a writer outage loses
 * none of it: once its heartbeat lapses, another pod (or its successor)
 * writes its entries — exactly once, since spend writes are idempotent per
 * request id — and removes them with every count the dead pod left in the
 * fleet's scopes. Each scope's unwritten spend and its ledger of recent
 * batches let budget checks on any pod count spend the whole fleet has
 * recorded. The heartbeat also tells how many pods live: a pod that must
 * count alone takes its share of each limit.
 */
export class RedisSpendLedger implements SpendMirror {
  /** Written entries whose copies could not be dropped yet (Redis was away), by batch. */
  private unconfirmed: Array<{ entries: readonly SpendRecord[]; lsn: bigint | undefined; batch: string }> = [];
  private confirming: Promise<void> | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private batches = 0;
  private live = 1;
  private readonly heartbeatMs: number;
  private readonly pod: string;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisSpendLedgerOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.pod = options.outbox.pod;
  }

  /** Pods alive at the last heartbeat that reached Redis (this one included; at least 1). */
  get livePods(): number {
    return this.live;
  }

  hold(entry: SpendRecord, again = false): Promise<boolean> {
    const scopes = spendScopes(entry);
    const json = JSON.stringify({ ...entry, scopes });
    const held = { id: entry.requestId, json, cost: entry.cost, scopes };
    const landed = again
      ? this.heldAgain.add(held).then(
          () => true,
          () => false,
        )
      : this.options.outbox.hold(held);
    this.holds.set(entry, landed);
    return landed;
  }

  /** Each entry's last hold: whether it landed (a written entry's copy is then removed the fast way). */
  private readonly holds = new WeakMap<SpendRecord, Promise<boolean>>();

  private readonly heldAgain = new Batcher<{ id: string; json: string; cost: number; scopes: readonly string[] }>(async (entries) => {
    const scopes = new Map<string, number>();
    const keys = [FLEET_KEYS.buffer(this.pod)];
    const args: Array<string | number> = [this.pod, entries.length];
    for (const entry of entries) {
      const indices = entry.scopes.map((scope) => {
        if (!scopes.has(scope)) keys.push(FLEET_KEYS.scope(scope));
        return scopes.get(scope) ?? scopes.set(scope, scopes.size + 1).get(scope)!;
      });
      args.push(entry.id, entry.json, entry.cost, indices.join(","));
    }
    await this.link.run("spend-hold-again", (redis) => HOLD_AGAIN.run(redis, keys, args));
  });

  written(entries: readonly SpendRecord[], lsn: bigint | undefined): void {
    this.unconfirmed.push({ entries, lsn, batch: `${this.pod}-${++this.batches}` });
    // Redis away for hours: the oldest copies stay in Redis, counted as unwritten (budgets err
    // high) until a pod finds this one's heartbeat lapsed and writes them again, harmlessly.
    if (this.unconfirmed.length > 10_000) this.unconfirmed.shift();
    void this.confirm();
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.beating = this.beat().finally(tick);
      }, this.heartbeatMs);
      this.timer.unref();
    };
    this.beating = this.beat();
    tick();
  }

  /** Stops the heartbeat (waiting for a beat under way); the pod leaves the fleet if everything it held was written. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    await this.confirm();
    await this.link.settle("spend-leave", (redis) => this.leave(redis, this.pod)).catch(() => undefined);
  }

  private leave(redis: Parameters<Parameters<RedisLink["run"]>[1]>[0], pod: string): Promise<unknown> {
    return LEAVE.run(redis, [FLEET_KEYS.pods, FLEET_KEYS.buffer(pod), FLEET_KEYS.scopesOf(pod)], [pod]);
  }

  /** Drops the copies of written batches, oldest first; one loop at a time (it takes batches as they come). */
  private confirm(): Promise<void> {
    return (this.confirming ??= this.confirmAll().finally(() => (this.confirming = undefined)));
  }

  private async confirmAll(): Promise<void> {
    while (this.unconfirmed.length > 0) {
      const next = this.unconfirmed[0]!;
      const done = await this.dropOwn(next.entries, next.lsn, next.batch).then(
        () => true,
        () => false,
      );
      if (!done) return;
      this.unconfirmed.shift();
    }
  }

  /**
   * This pod's written entries: those whose hold it saw land go the fast way; any other (a hold
   * that failed or timed out, and may or may not have landed) is checked against the buffer.
   */
  private async dropOwn(entries: readonly SpendRecord[], lsn: bigint | undefined, batch: string): Promise<void> {
    const landed = await Promise.all(entries.map((entry) => this.holds.get(entry) ?? false));
    const sure = entries.filter((_, i) => landed[i]);
    const unsure = entries.filter((_, i) => !landed[i]);
    if (sure.length > 0) {
      const sums = new Map<string, number>();
      for (const entry of sure) for (const scope of spendScopes(entry)) sums.set(scope, (sums.get(scope) ?? 0) + entry.cost);
      const keys = [FLEET_KEYS.applied(batch), ...[...sums.keys()].flatMap(ledgerKeys)];
      const args = [Date.now(), this.pod, lsn?.toString() ?? "", batch, this.options.retainMs, ...sums.values()];
      const ids = sure.map((entry) => entry.requestId);
      await this.link.settle("spend-written", (redis) =>
        WRITTEN_SUMS.runAfter(redis, (multi) => void multi.hdel(FLEET_KEYS.buffer(this.pod), ...ids), keys, args),
      );
    }
    if (unsure.length > 0) await this.drop(this.pod, unsure, lsn, `${batch}-checked`);
  }

  private drop(pod: string, entries: readonly SpendRecord[], lsn: bigint | undefined, batch: string): Promise<unknown> {
    const scopes = new Map<string, number>();
    const indices = entries.map((entry) =>
      spendScopes(entry)
        .map((scope) => scopes.get(scope) ?? scopes.set(scope, scopes.size + 1).get(scope)!)
        .join(","),
    );
    const keys = [FLEET_KEYS.buffer(pod)];
    for (const scope of scopes.keys()) keys.push(...ledgerKeys(scope));
    const args: Array<string | number> = [Date.now(), pod, lsn?.toString() ?? "", batch, this.options.retainMs, entries.length];
    for (const entry of entries) args.push(entry.requestId);
    entries.forEach((entry, i) => args.push(entry.cost, indices[i]!));
    return this.link.settle("spend-written", (redis) => WRITTEN.run(redis, keys, args));
  }

  /** Says this pod lives, drops what it could not before, and writes the entries of pods that died. */
  private async beat(): Promise<void> {
    if (!this.link.usable) return;
    const me = this.pod;
    try {
      const [live, ...dead] = (await this.link.run("fleet-heartbeat", (redis) =>
        HEARTBEAT.run(redis, [FLEET_KEYS.pods], [me, FLEET_KEYS.alivePrefix, this.heartbeatMs * 3]),
      )) as [number, ...string[]];
      this.live = Math.max(1, Number(live));
      this.options.onLivePods?.(this.live);
      await this.confirm();
      for (const pod of dead) {
        const claimed = await this.link.run("spend-pods", (redis) =>
          redis.set(FLEET_KEYS.claim(pod), me, "PX", this.heartbeatMs * 6, "NX"),
        );
        if (claimed === "OK") await this.recover(pod);
      }
    } catch (error) {
      this.options.log.warn({ err: error }, "spend ledger: heartbeat or recovery failed; will try again");
    }
  }

  /**
   * Writes a dead pod's held entries, a page at a time, and removes them. Each page renews this
   * pod's heartbeat and its claim, so a long recovery is not taken for a death or claimed twice.
   */
  private async recover(pod: string): Promise<void> {
    const me = this.pod;
    let total = 0;
    let page = 0;
    let cursor = "0";
    for (;;) {
      const [next, flat] = await this.link.run("spend-recover", (redis) => redis.hscan(FLEET_KEYS.buffer(pod), cursor, "COUNT", 500));
      // A page may come back empty before the scan is over; a scan over (cursor 0) starts again
      // until the buffer is empty, as written entries leave it.
      cursor = next;
      if (flat.length === 0) {
        if (cursor !== "0") continue;
        if ((await this.link.run("spend-recover", (redis) => redis.hlen(FLEET_KEYS.buffer(pod)))) === 0) break;
        continue;
      }
      const renewed = await this.link.run("fleet-heartbeat", (redis) =>
        redis
          .multi()
          .set(FLEET_KEYS.alive(me), "1", "PX", this.heartbeatMs * 3)
          .set(FLEET_KEYS.claim(pod), me, "PX", this.heartbeatMs * 6)
          .exists(FLEET_KEYS.alive(pod))
          .exec(),
      );
      // Taken for dead while it was only slow (its heartbeat lapsed): it lives, and writes its own.
      if (Number(renewed?.[2]?.[1]) === 1) {
        this.options.log.warn({ pod }, "spend ledger: a pod taken for dead beats again; leaving its entries to it");
        return;
      }
      const entries: SpendRecord[] = [];
      for (let i = 1; i < flat.length; i += 2) entries.push(revive(flat[i]!));
      const lsn = await this.options.write(entries);
      await this.drop(pod, entries, lsn, `${pod}-recovered-${++page}`);
      total += entries.length;
    }
    await this.link.run("spend-recover", (redis) => this.leave(redis, pod));
    if (total > 0) {
      this.options.onRecovered?.(total);
      this.options.log.info({ pod, entries: total }, "spend ledger: wrote the spend a stopped pod held in Redis");
    }
  }
}

/** A scope's hash and its two ledgers of written batches (by commit position, by time). */
const ledgerKeys = (scope: string) => [FLEET_KEYS.scope(scope), FLEET_KEYS.written(scope), FLEET_KEYS.writtenAt(scope)];

function revive(json: string): SpendRecord {
  const { scopes: _scopes, ...entry } = JSON.parse(json) as SpendRecord & { scopes: string[]; startTime: string; endTime: string };
  return { ...entry, startTime: new Date(entry.startTime), endTime: new Date(entry.endTime) };
}
