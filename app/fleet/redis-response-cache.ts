import type { ResponseCache } from "../services/upstream/response-cache.js";
import type { RedisLink } from "./redis-link.js";

/**
 * The fleet's answers in Redis: an answer stored by one pod is a hit on
 * every pod. While Redis is away (or slow past its bound) each pod uses its
 * own memory instead, so a lookup costs at most the bound and never fails.
 */
export class RedisResponseCache implements ResponseCache {
  constructor(
    private readonly link: RedisLink,
    private readonly local: ResponseCache,
  ) {}

  get(key: string): Promise<string | undefined> {
    return this.link.orLocal(
      async () => (await this.link.run("cache-get", (redis) => redis.get(key))) ?? undefined,
      () => this.local.get(key),
    );
  }

  set(key: string, value: string, ttlMs: number): void {
    if (!this.link.usable) return this.local.set(key, value, ttlMs);
    void this.link
      .run("cache-set", (redis) => redis.set(key, value, "PX", Math.max(1, Math.round(ttlMs))))
      .catch(() => this.local.set(key, value, ttlMs));
  }
}
