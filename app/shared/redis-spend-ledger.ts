import type { Logger } from "../observability/logger.js";
import type { SpendMirror } from "../services/billing/spend-mirror.js";
import { spendScopes, type SpendWriter } from "../services/billing/spend-queue.js";
import type { SpendRecord } from "../services/billing/spend.js";
import type { RedisLink } from "./redis-link.js";
import { Batcher } from "./batcher.js";
import { RedisScript } from "./redis-script.js";

/** Where the fleet's acknowledged, unwritten spend lives in Redis (read by the budget script too). */
export const SPEND_KEYS = {
  /** Pods that may hold spend. */
  pods: "tandem:spend:pods",
  /** Per pod: request id → the spend entry (JSON). */
  buffer: (pod: string) => `tandem:spend:buffer:${pod}`,
  /** Per pod: scope → Σ cost of its held entries. */
  pendingPrefix: "tandem:spend:pending:",
  pending: (pod: string) => `tandem:spend:pending:${pod}`,
  /** Per pod, while it lives. */
  alive: (pod: string) => `tandem:spend:alive:${pod}`,
  /** Per pod: the pod writing a dead pod's entries. */
  claim: (pod: string) => `tandem:spend:claim:${pod}`,
  /** Per scope: batches written lately, scored by commit position, for budget reads that predate them. */
  written: (scope: string) => `tandem:budget:written:${scope}`,
};

// Entries acknowledged in one turn of the event loop, held in one call.
//   KEYS: pods, buffer, pending   ARGV: pod, then per entry: request id, entry JSON, cost, scope count, scopes…
const HOLD = new RedisScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local i = 2
while i <= #ARGV do
  local id, json, cost, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  if redis.call('HSETNX', KEYS[2], id, json) == 1 then
    for j = 1, n do redis.call('HINCRBYFLOAT', KEYS[3], ARGV[i + 3 + j], cost) end
  end
  i = i + 4 + n
end
return 1
`);

// Entries that are in the database leave the buffer and the pending sums, and join each scope's
// written ledger as one batch entry; ledger entries older than the retention go. Entries no longer
// buffered (another pod wrote them first) count nothing.
//   KEYS: buffer, pending   ARGV: now (ms), commit position (-1 unknown), batch id, retention (ms), ledger prefix, request ids…
const WRITTEN = new RedisScript(`
local now, lsn, batch, retain, prefix = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local sums, scopes = {}, {}
for i = 6, #ARGV do
  local json = redis.call('HGET', KEYS[1], ARGV[i])
  if json then
    local entry = cjson.decode(json)
    redis.call('HDEL', KEYS[1], ARGV[i])
    for _, scope in ipairs(entry.scopes) do
      redis.call('HINCRBYFLOAT', KEYS[2], scope, -entry.cost)
      if not sums[scope] then table.insert(scopes, scope); sums[scope] = 0 end
      sums[scope] = sums[scope] + entry.cost
    end
  end
end
for _, scope in ipairs(scopes) do
  local key = prefix .. scope
  for _, old in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if tonumber(string.match(old, '^([^|]+)|')) < now - retain then redis.call('ZREM', key, old) end
  end
  redis.call('ZADD', key, lsn, now .. '|' .. sums[scope] .. '|' .. batch)
  redis.call('PEXPIRE', key, retain)
end
return #scopes
`);

// A pod whose buffer is empty leaves the set (its pending sums are float dust by then).
//   KEYS: pods, buffer, pending   ARGV: pod
const FORGET = new RedisScript(`
if redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[1], ARGV[1])
  return 1
end
return 0
`);

export interface RedisSpendLedgerOptions {
  /** This pod's name in the fleet: unique per process (a restarted pod is a new one). */
  pod: string;
  /** Writes entries to the database (idempotent per request id). */
  write: SpendWriter;
  log: Logger;
  /** How long written batches stay counted for budget reads that predate them. */
  retainMs: number;
  /** How often this pod says it lives and looks for dead pods' entries. */
  heartbeatMs?: number;
  /** Entries this pod wrote for a dead pod. */
  onRecovered?: (count: number) => void;
}

/**
 * The fleet's spend ledger in Redis (LiteLLM's Redis transaction buffer):
 * every acknowledged entry is held in Redis as well as in its pod's memory
 * until the database has it. A pod killed during a writer outage loses
 * none of it: once its heartbeat lapses, another pod (or its successor)
 * writes its entries — exactly once, since spend writes are idempotent per
 * request id — and removes them. The per-scope sums of held entries and the
 * ledger of recent batches let budget checks on any pod count spend the
 * whole fleet has recorded.
 */
export class RedisSpendLedger implements SpendMirror {
  /** Written entries whose copies could not be dropped yet (Redis was away), by batch. */
  private unconfirmed: Array<{ ids: string[]; lsn: bigint | undefined; batch: string }> = [];
  private confirming: Promise<void> | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private batches = 0;
  private readonly heartbeatMs: number;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisSpendLedgerOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
  }

  private readonly holds = new Batcher<SpendRecord>(async (entries) => {
    const pod = this.options.pod;
    const args: Array<string | number> = [pod];
    for (const entry of entries) {
      const scopes = spendScopes(entry);
      args.push(entry.requestId, JSON.stringify({ ...entry, scopes }), entry.cost, scopes.length, ...scopes);
    }
    await this.link.run("spend-hold", (redis) => HOLD.run(redis, [SPEND_KEYS.pods, SPEND_KEYS.buffer(pod), SPEND_KEYS.pending(pod)], args));
  });

  hold(entry: SpendRecord): Promise<boolean> {
    return this.holds.add(entry).then(
      () => true,
      () => false,
    );
  }

  written(entries: readonly SpendRecord[], lsn: bigint | undefined): void {
    const ids = entries.map((e) => e.requestId);
    this.unconfirmed.push({ ids, lsn, batch: `${this.options.pod}-${++this.batches}` });
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

  /** Stops the heartbeat (waiting for a beat under way); the pod leaves the set if everything it held was written. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    await this.confirm();
    const pod = this.options.pod;
    await this.link
      .settle("spend-forget", (redis) => FORGET.run(redis, [SPEND_KEYS.pods, SPEND_KEYS.buffer(pod), SPEND_KEYS.pending(pod)], [pod]))
      .catch(() => undefined);
  }

  /** Drops the copies of written batches, oldest first; one loop at a time (it takes batches as they come). */
  private confirm(): Promise<void> {
    return (this.confirming ??= this.confirmAll().finally(() => (this.confirming = undefined)));
  }

  private async confirmAll(): Promise<void> {
    while (this.unconfirmed.length > 0) {
      const next = this.unconfirmed[0]!;
      const done = await this.drop(this.options.pod, next.ids, next.lsn, next.batch).then(
        () => true,
        () => false,
      );
      if (!done) return;
      this.unconfirmed.shift();
    }
  }

  private drop(pod: string, ids: readonly string[], lsn: bigint | undefined, batch: string): Promise<unknown> {
    const args = [Date.now(), lsn?.toString() ?? "-1", batch, this.options.retainMs, SPEND_KEYS.written(""), ...ids];
    return this.link.settle("spend-written", (redis) => WRITTEN.run(redis, [SPEND_KEYS.buffer(pod), SPEND_KEYS.pending(pod)], args));
  }

  /** Says this pod lives, drops what it could not before, and writes the entries of pods that died. */
  private async beat(): Promise<void> {
    if (!this.link.usable) return;
    const me = this.options.pod;
    try {
      await this.link.run("spend-heartbeat", (redis) => redis.set(SPEND_KEYS.alive(me), "1", "PX", this.heartbeatMs * 3));
      await this.confirm();
      const pods = await this.link.run("spend-pods", (redis) => redis.smembers(SPEND_KEYS.pods));
      for (const pod of pods) {
        if (pod === me) continue;
        const alive = await this.link.run("spend-pods", (redis) => redis.exists(SPEND_KEYS.alive(pod)));
        if (alive) continue;
        const claimed = await this.link.run("spend-pods", (redis) =>
          redis.set(SPEND_KEYS.claim(pod), me, "PX", this.heartbeatMs * 6, "NX"),
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
    const me = this.options.pod;
    let total = 0;
    let page = 0;
    let cursor = "0";
    for (;;) {
      const [next, flat] = await this.link.run("spend-recover", (redis) => redis.hscan(SPEND_KEYS.buffer(pod), cursor, "COUNT", 500));
      // A page may come back empty before the scan is over; a scan over (cursor 0) starts again
      // until the buffer is empty, as written entries leave it.
      cursor = next;
      if (flat.length === 0) {
        if (cursor !== "0") continue;
        if ((await this.link.run("spend-recover", (redis) => redis.hlen(SPEND_KEYS.buffer(pod)))) === 0) break;
        continue;
      }
      await this.link.run("spend-heartbeat", (redis) =>
        redis
          .multi()
          .set(SPEND_KEYS.alive(me), "1", "PX", this.heartbeatMs * 3)
          .set(SPEND_KEYS.claim(pod), me, "PX", this.heartbeatMs * 6)
          .exec(),
      );
      const entries: SpendRecord[] = [];
      for (let i = 1; i < flat.length; i += 2) entries.push(revive(flat[i]!));
      const lsn = await this.options.write(entries);
      await this.drop(
        pod,
        entries.map((e) => e.requestId),
        lsn,
        `${pod}-recovered-${++page}`,
      );
      total += entries.length;
    }
    await this.link.run("spend-recover", (redis) =>
      FORGET.run(redis, [SPEND_KEYS.pods, SPEND_KEYS.buffer(pod), SPEND_KEYS.pending(pod)], [pod]),
    );
    if (total > 0) {
      this.options.onRecovered?.(total);
      this.options.log.info({ pod, entries: total }, "spend ledger: wrote the spend a stopped pod held in Redis");
    }
  }
}

function revive(json: string): SpendRecord {
  const { scopes: _scopes, ...entry } = JSON.parse(json) as SpendRecord & { scopes: string[]; startTime: string; endTime: string };
  return { ...entry, startTime: new Date(entry.startTime), endTime: new Date(entry.endTime) };
}
