import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import type { RedisLink } from "./redis-link.js";

/**
 * One Redis pub/sub channel between the pods of a fleet: a pod hears what
 * the others publish, never its own messages. At most once, like any
 * pub/sub: a pod whose subscription is down while a message passes misses
 * it, so what is sent here must only ever speed things up — each pod's own
 * state stays correct without it.
 */
export class RedisChannel<T> {
  private readonly pod = randomUUID();
  private readonly subscriber: Redis;

  constructor(
    private readonly link: RedisLink,
    private readonly name: string,
    onMessage: (message: T) => void,
    log: Logger,
  ) {
    // A connection of its own (a subscribed connection takes no other commands), queueing while it reconnects.
    // maxRetriesPerRequest null: a SUBSCRIBE sent while Redis is down waits for it instead of being dropped
    // (ioredis only re-subscribes channels it saw confirmed).
    this.subscriber = new Redis({
      ...link.settings(),
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      lazyConnect: false,
    });
    this.subscriber.on("error", () => undefined);
    this.subscriber.on("message", (_channel: string, text: string) => {
      try {
        const envelope = JSON.parse(text) as { pod?: string; body?: T };
        if (envelope.pod !== this.pod && envelope.body !== undefined) onMessage(envelope.body);
      } catch {
        // Not ours, or garbled: nothing to do.
      }
    });
    this.subscriber.subscribe(name).catch((error: unknown) => log.warn({ err: error, channel: name }, "Redis subscription failed"));
  }

  /**
   * Resolves once Redis has handed the message to the subscribers (within the link's bound; never
   * rejects). Nothing is published while Redis is degraded.
   */
  async publish(body: T): Promise<void> {
    const text = JSON.stringify({ pod: this.pod, body });
    await this.link.run(`publish ${this.name}`, (redis) => redis.publish(this.name, text)).catch(() => undefined);
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
