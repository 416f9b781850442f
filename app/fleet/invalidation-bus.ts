import type { Lsn } from "../db/lsn.js";
import type { Logger } from "../observability/logger.js";
import { RedisChannel } from "./redis-channel.js";
import type { RedisLink } from "./redis-link.js";

/** What one pod tells the others after a write: what changed, and the writer's WAL position after it. */
export interface Invalidation {
  scopes: readonly string[];
  lsn: Lsn | undefined;
}

/**
 * Tells the fleet what this pod wrote, so every pod drops what it cached of
 * it and reads it from a replica only once the replica has replayed that far
 * (a key deleted or blocked on one pod is refused by all at once, not after
 * the key cache's TTL). In memory (one pod) there is nobody to tell.
 */
export interface InvalidationBus {
  /** Resolves once Redis has passed it on (or could not, within its bound): never rejects. */
  publish(change: Invalidation): Promise<void>;
  close(): Promise<void>;
}

export const LOCAL_ONLY: InvalidationBus = { publish: async () => undefined, close: async () => undefined };

/** Over a Redis channel: a pod that misses a message still has the key cache's TTL bound (≤ DATABASE_READ_REPLICA_MAX_LAG_MS). */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly channel: RedisChannel<{ scopes: string[]; lsn?: string }>;

  constructor(link: RedisLink, onRemote: (change: Invalidation) => void, log: Logger) {
    this.channel = new RedisChannel(
      link,
      "tandem:invalidate",
      ({ scopes, lsn }) => {
        if (!Array.isArray(scopes)) return;
        onRemote({
          scopes: scopes.filter((s): s is string => typeof s === "string"),
          lsn: typeof lsn === "string" && /^\d+$/.test(lsn) ? BigInt(lsn) : undefined,
        });
      },
      log,
    );
  }

  async publish(change: Invalidation): Promise<void> {
    if (change.scopes.length > 0) await this.channel.publish({ scopes: [...change.scopes], lsn: change.lsn?.toString() });
  }

  async close(): Promise<void> {
    this.channel.close();
  }
}
