import { LocalSessionRevocations, type SessionRevocations } from "../services/ui/session-revocations.js";
import type { RedisLink } from "./redis-link.js";

/**
 * Sign-outs for the whole fleet: one Redis key per revoked session, expiring with it. While Redis
 * is unavailable a pod still honours the sign-outs it served or saw (its own list), so a session
 * signed out on this pod is never accepted here again.
 */
export class RedisSessionRevocations implements SessionRevocations {
  private readonly local = new LocalSessionRevocations();

  constructor(
    private readonly link: RedisLink,
    private readonly prefix = "tandem:ui-session-revoked:",
  ) {}

  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    await this.local.revoke(sessionId, expiresAt);
    const ttl = Math.max(1, expiresAt - Date.now());
    await this.link.settle("session revoke", (redis) => redis.set(this.prefix + sessionId, "1", "PX", ttl)).catch(() => undefined);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    if (await this.local.isRevoked(sessionId)) return true;
    try {
      return (await this.link.run("session check", (redis) => redis.exists(this.prefix + sessionId))) === 1;
    } catch {
      return false;
    }
  }
}
