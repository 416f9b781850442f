import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Lsn } from "../db/lsn.js";
import type { Logger } from "../observability/logger.js";
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
  publish(change: Invalidation): void;
  close(): Promise<void>;
}

export const LOCAL_ONLY: InvalidationBus = { publish: () => undefined, close: async () => undefined };

const CHANNEL = "tandem:invalidate";

/**
 * Redis pub/sub: at most once, like any pub/sub — a pod whose subscription is
 * down while a message passes misses it and falls back on the key cache's TTL
 * bound (never longer than DATABASE_READ_REPLICA_MAX_LAG_MS).
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly pod = randomUUID();
  private readonly subscriber: Redis;

  constructor(
    private readonly link: RedisLink,
    private readonly onRemote: (change: Invalidation) => void,
    private readonly log: Logger,
  ) {
    // A connection of its own (a subscribed connection takes no other commands), queueing while it reconnects.
    this.subscriber = new Redis({ ...link.settings(), enableOfflineQueue: true, commandTimeout: undefined, lazyConnect: false });
    this.subscriber.on("error", () => undefined);
    this.subscriber.on("message", (_channel: string, text: string) => this.receive(text));
    this.subscriber.subscribe(CHANNEL).catch((error: unknown) => this.log.warn({ err: error }, "Redis invalidation subscription failed"));
  }

  publish(change: Invalidation): void {
    if (change.scopes.length === 0) return;
    const message = JSON.stringify({ pod: this.pod, scopes: change.scopes, lsn: change.lsn?.toString() });
    void this.link.run("invalidate", (redis) => redis.publish(CHANNEL, message)).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }

  private receive(text: string): void {
    try {
      const message = JSON.parse(text) as { pod?: string; scopes?: unknown; lsn?: string };
      if (message.pod === this.pod || !Array.isArray(message.scopes)) return;
      const scopes = message.scopes.filter((s): s is string => typeof s === "string");
      this.onRemote({ scopes, lsn: message.lsn !== undefined && /^\d+$/.test(message.lsn) ? BigInt(message.lsn) : undefined });
    } catch {
      // Not ours, or garbled: nothing to drop.
    }
  }
}
