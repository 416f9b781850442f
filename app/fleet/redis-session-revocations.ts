import { LocalSessionRevocations, type SessionRevocations } from "../services/ui/session-revocations.js";
import type { RedisLink } from "./redis-link.js";

/**
 * Sign-outs for the whole fleet: one Redis key per revoked session, expiring with it. While Redis
 * is unavailable a pod still honours the sign-outs it served (its own list) and tells Redis of them
 * once it answers again; other pods accept such a session until then (documented: the UI stays
 * usable during a Redis outage, when operators need it most).
 */
export class RedisSessionRevocations implements SessionRevocations {
  private readonly local = new LocalSessionRevocations();
  /** Sign-outs Redis has not taken yet: sent again with the next revoke or check. */
  private readonly unsent = new Map<string, number>();

  constructor(
    private readonly link: RedisLink,
    private readonly prefix = "tandem:ui-session-revoked:",
  ) {}

  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    await this.local.revoke(sessionId, expiresAt);
    this.unsent.set(sessionId, expiresAt);
    await this.send();
  }

  private async send(): Promise<void> {
    for (const [sessionId, expiresAt] of this.unsent) {
      const ttl = expiresAt - Date.now();
      if (ttl > 0) {
        const sent = await this.link
          .settle("session revoke", (redis) => redis.set(this.prefix + sessionId, "1", "PX", ttl))
          .then(() => true)
          .catch(() => false);
        if (!sent) return;
      }
      this.unsent.delete(sessionId);
    }
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    if (this.unsent.size > 0) await this.send();
    if (await this.local.isRevoked(sessionId)) return true;
    try {
      return (await this.link.run("session check", (redis) => redis.exists(this.prefix + sessionId))) === 1;
    } catch {
      return false;
    }
  }
}
