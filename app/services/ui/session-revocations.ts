/** Signed-out sessions, until they would have expired anyway. Shared by the fleet when Redis is there. */
export interface SessionRevocations {
  revoke(sessionId: string, expiresAt: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}

/** This pod's own list (no Redis): a sign-out holds on the pod that served it. */
export class LocalSessionRevocations implements SessionRevocations {
  private readonly revoked = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    for (const [id, until] of this.revoked) if (until <= this.now()) this.revoked.delete(id);
    this.revoked.set(sessionId, expiresAt);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const until = this.revoked.get(sessionId);
    return until !== undefined && until > this.now();
  }
}
