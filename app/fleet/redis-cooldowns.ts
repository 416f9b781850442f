import type { Logger } from "../observability/logger.js";
import { FAILURE_WINDOW_MS, LocalCooldowns, type CooldownSettings, type Cooldowns } from "../services/upstream/cooldowns.js";
import { RedisChannel } from "./redis-channel.js";
import { RedisUnavailable, type RedisLink } from "./redis-link.js";
import { RedisScript } from "./redis-script.js";

// Counts a deployment's failures for the fleet; past allowed_fails it starts
// the cooldown once (SET NX) and answers when it ends, else 0.
//   KEYS: failures counter, cooldown marker   ARGV: now, window, allowed fails, cooldown ms, can cool (1/0)
const FAILED = new RedisScript(`
local now, window, allowed, cooldown, canCool = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local fails = redis.call('INCR', KEYS[1])
if fails == 1 then redis.call('PEXPIRE', KEYS[1], window) end
if fails > allowed and canCool then
  local untilMs = now + cooldown
  if cooldown < 1 then return 0 end
  if redis.call('SET', KEYS[2], untilMs, 'PX', cooldown, 'NX') then
    redis.call('DEL', KEYS[1])
    return untilMs
  end
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return 0
`);

/**
 * Router cooldowns for the whole fleet, as LiteLLM shares them through
 * Redis: a deployment's failures are counted across pods, and the pod whose
 * failure crosses `allowed_fails` tells every other pod, which stop calling
 * it for `cooldown_time` too. Each pod keeps its own view (what it decided
 * or heard), so routing never waits for Redis; while Redis is unavailable a
 * pod counts its own failures as before.
 */
export class FleetCooldowns implements Cooldowns {
  private readonly local: LocalCooldowns;
  private readonly channel: RedisChannel<{ id: string; untilMs: number }>;

  constructor(
    private readonly link: RedisLink,
    private readonly settings: CooldownSettings,
    log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.local = new LocalCooldowns(settings, now);
    this.channel = new RedisChannel(
      link,
      "tandem:cooldown",
      ({ id, untilMs }) => {
        if (typeof id === "string" && typeof untilMs === "number") this.local.coolUntil(id, untilMs);
      },
      log,
    );
  }

  until(id: string): number {
    return this.local.until(id);
  }

  all(): Array<{ id: string; untilMs: number }> {
    return this.local.all();
  }

  failed(id: string, canCool: boolean): void {
    const keys = [`tandem:cooldown:fails:${id}`, `tandem:cooldown:until:${id}`];
    // PX takes whole milliseconds (cooldown_time may be fractional seconds, or 0: no cooldown).
    const args = [this.now(), FAILURE_WINDOW_MS, this.settings.allowedFails, Math.round(this.settings.cooldownMs), canCool ? 1 : 0];
    this.link
      .run("cooldown", (redis) => FAILED.run(redis, keys, args))
      .then((untilMs) => {
        if (Number(untilMs) > 0) {
          this.local.coolUntil(id, Number(untilMs));
          void this.channel.publish({ id, untilMs: Number(untilMs) });
        }
      })
      .catch((error: unknown) => {
        if (error instanceof RedisUnavailable) this.local.failed(id, canCool);
      });
  }

  close(): void {
    this.channel.close();
  }
}
