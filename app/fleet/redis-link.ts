import { Redis, ReplyError } from "ioredis";
import type { RedisConfig } from "../config/redis.js";
import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";

/** connected: shared state in Redis. degraded: unreachable or slow, each pod on its own memory. disabled: no Redis configured. */
export type RedisStatus = "connected" | "degraded" | "disabled";

export class RedisUnavailable extends Error {
  override name = "RedisUnavailable";
}

export interface RedisLinkOptions {
  log: Logger;
  /** Bound on every command on the request path: past it the pod falls back to its own state. */
  commandTimeoutMs?: number;
  /** How often a PING checks Redis (and, while degraded, whether it is back). */
  probeIntervalMs?: number;
  onStatus?: (status: RedisStatus) => void;
  /** A command failed or timed out (metrics), by what it was for. */
  onFailure?: (what: string) => void;
}

/**
 * The pod's connection to the fleet's Redis, with the rule every shared
 * thing follows: a command is bounded (50 ms by default), a failure or a
 * timeout marks Redis degraded, and while degraded nothing on the request
 * path waits for Redis at all — callers fall back to their in-memory state —
 * until a background PING finds it answering again. Redis never fails a
 * request and never holds one longer than the bound.
 */
export class RedisLink {
  readonly client: Redis;
  private current: Exclude<RedisStatus, "disabled"> = "degraded";
  private probe: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly commandTimeoutMs: number;

  constructor(
    readonly config: RedisConfig,
    private readonly options: RedisLinkOptions,
  ) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 50;
    this.client = new Redis(this.settings());
    // Connection errors surface through the commands that fail; the event only needs a listener.
    this.client.on("error", () => undefined);
  }

  /** Connection settings shared by the command connection and subscribers. */
  settings() {
    const c = this.config;
    return {
      host: c.host,
      port: c.port,
      username: c.username,
      password: c.password,
      db: c.db,
      tls: c.tls ? {} : undefined,
      lazyConnect: true,
      connectTimeout: 1000,
      // Fail at once while disconnected instead of queueing behind a dead link.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.commandTimeoutMs,
      // Commands issued in the same tick (many concurrent requests) go out in one write.
      enableAutoPipelining: true,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
    };
  }

  get status(): RedisStatus {
    return this.current;
  }

  get usable(): boolean {
    return this.current === "connected";
  }

  /** Connects (bounded by a second) and starts watching; a Redis that is down at start only means "degraded". */
  async start(): Promise<void> {
    await this.client.connect().catch(() => undefined);
    await this.check();
    if (!this.usable)
      this.options.log.warn(
        { redis: this.config.name },
        "Redis unreachable at start; this pod uses its own limits and caches until it answers",
      );
    this.schedule();
  }

  /** Runs `work` on Redis within the bound, or throws RedisUnavailable at once while degraded. */
  async run<T>(what: string, work: (redis: Redis) => Promise<T>): Promise<T> {
    if (!this.usable) throw new RedisUnavailable("Redis is degraded");
    return this.attempt(what, work);
  }

  /**
   * The same, tried even while degraded (it still fails at once while
   * disconnected): for settling what a request took in Redis — a slot freed
   * late is better than a slot held until its lease runs out.
   */
  async settle<T>(what: string, work: (redis: Redis) => Promise<T>): Promise<T> {
    return this.attempt(what, work);
  }

  private async attempt<T>(what: string, work: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await work(this.client);
    } catch (error) {
      this.options.onFailure?.(what);
      // An error reply is this command's problem, not Redis being away: the link stays up.
      if (!(error instanceof ReplyError)) this.degrade(error);
      throw new RedisUnavailable(scrub(error instanceof Error ? error.message : String(error)));
    }
  }

  /**
   * The fleet's state while Redis answers, the pod's own while it does not: `shared` (which calls
   * Redis through `run`) unless Redis is degraded or fails within its bound, then `local`. Any
   * other error of `shared` (a 429, say) stands.
   */
  async orLocal<T>(shared: () => Promise<T>, local: () => T | Promise<T>): Promise<T> {
    if (!this.usable) return local();
    try {
      return await shared();
    } catch (error) {
      if (error instanceof RedisUnavailable) return local();
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probe);
    this.client.disconnect();
  }

  private async check(): Promise<void> {
    try {
      await this.client.ping();
      if (this.current !== "connected") {
        this.options.log.info({ redis: this.config.name }, "Redis connected; limits and invalidations are shared with the fleet");
        this.set("connected");
      }
    } catch (error) {
      this.degrade(error);
    }
  }

  private degrade(error: unknown): void {
    if (this.current === "degraded") return;
    this.options.log.warn(
      { redis: this.config.name, err: error },
      "Redis unavailable; this pod falls back to its own limits and caches until Redis answers again",
    );
    this.set("degraded");
  }

  private set(status: Exclude<RedisStatus, "disabled">): void {
    const changed = status !== this.current;
    this.current = status;
    if (changed) this.options.onStatus?.(status);
  }

  private schedule(): void {
    if (this.closed) return;
    this.probe = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.options.probeIntervalMs ?? 500);
    this.probe.unref();
  }
}
