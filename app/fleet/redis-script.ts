import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A Lua script called by its SHA (EVALSHA), so a request sends a few dozen
 * bytes instead of the script's text; loaded with EVAL the first time a
 * Redis has not seen it (NOSCRIPT: a new or restarted Redis).
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  /**
   * Runs plain commands (`before`) and then the script in one MULTI/EXEC: all of them or none.
   * A Redis that has not seen the script refuses the transaction; it is loaded, and the whole
   * transaction sent again.
   */
  async runAfter(
    redis: Redis,
    before: (multi: ReturnType<Redis["multi"]>) => void,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const multi = redis.multi();
      before(multi);
      multi.evalsha(this.sha, keys.length, ...keys, ...args);
      try {
        const results = (await multi.exec()) ?? [];
        const [error, answer] = results[results.length - 1] ?? [null, undefined];
        if (error) throw error;
        return answer;
      } catch (error) {
        if (attempt > 0 || !(error instanceof Error && /NOSCRIPT/.test(error.message))) throw error;
        await redis.script("LOAD", this.lua);
      }
    }
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
