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

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
