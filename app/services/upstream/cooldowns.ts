/** Deployments taken out of rotation after failures (LiteLLM's allowed_fails / cooldown_time). */
export interface Cooldowns {
  /** When the deployment's cooldown ends (epoch ms), as this pod knows it; 0 when it is not cooling down. */
  until(id: string): number;
  /** A retryable failure of the deployment; `canCool` is false for a group's only deployment (never taken out). */
  failed(id: string, canCool: boolean): void;
  /** Every deployment cooling down now. */
  all(): Array<{ id: string; untilMs: number }>;
}

export interface CooldownSettings {
  allowedFails: number;
  cooldownMs: number;
}

export const FAILURE_WINDOW_MS = 60_000;

/**
 * One pod's cooldowns: a deployment with more than `allowedFails` retryable
 * failures in a minute cools down for `cooldownMs`.
 */
export class LocalCooldowns implements Cooldowns {
  private readonly failures = new Map<string, number[]>();
  private readonly coolingUntil = new Map<string, number>();

  constructor(
    private readonly settings: CooldownSettings,
    private readonly now: () => number = Date.now,
  ) {}

  until(id: string): number {
    return this.coolingUntil.get(id) ?? 0;
  }

  failed(id: string, canCool: boolean): void {
    const now = this.now();
    const recent = (this.failures.get(id) ?? []).filter((t) => t > now - FAILURE_WINDOW_MS);
    recent.push(now);
    this.failures.set(id, recent);
    if (recent.length > this.settings.allowedFails && canCool) this.coolUntil(id, now + this.settings.cooldownMs);
  }

  /** Cools a deployment down until `untilMs` (a decision this pod made, or heard of). */
  coolUntil(id: string, untilMs: number): void {
    if (untilMs > this.until(id)) this.coolingUntil.set(id, untilMs);
    this.failures.delete(id);
  }

  all(): Array<{ id: string; untilMs: number }> {
    const now = this.now();
    return [...this.coolingUntil].filter(([, until]) => until > now).map(([id, untilMs]) => ({ id, untilMs }));
  }
}
