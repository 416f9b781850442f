import { Signer } from "@aws-sdk/rds-signer";
import type { Logger } from "../observability/logger.js";
import { forgetSecret, registerSecret } from "../observability/secrets.js";

/** Anything that can mint an RDS IAM auth token (the AWS signer, or a stub in unit tests). */
export interface TokenSigner {
  getAuthToken(): Promise<string>;
}

export interface IamTokenTarget {
  host: string;
  port: number;
  user: string;
  region: string;
}

export function rdsSigner(target: IamTokenTarget): TokenSigner {
  return new Signer({ hostname: target.host, port: target.port, username: target.user, region: target.region });
}

export interface IamTokenOptions {
  signer: TokenSigner;
  /** "writer" or "reader": which endpoint this provider serves, for logs. */
  label: string;
  log: Logger;
  /** RDS tokens are valid for 15 minutes; refreshing at 12 leaves a margin for clock skew and slow connects. */
  refreshMs?: number;
  lifetimeMs?: number;
  /** After a failed refresh, try again this soon (the current token is still valid meanwhile). */
  retryMs?: number;
}

/**
 * Keeps one current IAM token for one endpoint. pg asks for a password on
 * every new connection (`password: () => provider.current()`), so a refreshed
 * token is picked up without rebuilding pools or Prisma clients. Each
 * endpoint has its own provider, so writer and reader refresh independently.
 */
export class IamTokenProvider {
  private token: string | undefined;
  private issuedAt = 0;
  private inFlight: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly refreshMs: number;
  private readonly lifetimeMs: number;
  private readonly retryMs: number;

  constructor(private readonly options: IamTokenOptions) {
    this.refreshMs = options.refreshMs ?? 12 * 60_000;
    this.lifetimeMs = options.lifetimeMs ?? 15 * 60_000;
    this.retryMs = options.retryMs ?? 30_000;
  }

  /** The current token; fetches one if there is none or it has expired. */
  async current(): Promise<string> {
    if (this.token && Date.now() - this.issuedAt < this.lifetimeMs) return this.token;
    return this.refresh();
  }

  /** Fetches a token now and schedules the next refresh. */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.refresh();
    } finally {
      this.schedule(this.token ? this.refreshMs : this.retryMs);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.refresh();
      this.schedule(this.refreshMs);
    } catch {
      // Already logged in refresh(); the old token keeps working until it expires.
      this.schedule(this.retryMs);
    }
  }

  private refresh(): Promise<string> {
    this.inFlight ??= this.options.signer
      .getAuthToken()
      .then((token) => {
        registerSecret(token);
        const previous = this.token;
        this.token = token;
        this.issuedAt = Date.now();
        // Keep the previous token redacted a little longer: connections opened
        // with it may still log about it. The one before that is long gone.
        this.retired.push(previous);
        const old = this.retired.length > 2 ? this.retired.shift() : undefined;
        if (old) forgetSecret(old);
        this.options.log.debug({ endpoint: this.options.label }, "IAM auth token refreshed");
        return token;
      })
      .catch((error: unknown) => {
        const valid = this.token !== undefined && Date.now() - this.issuedAt < this.lifetimeMs;
        this.options.log.error(
          { endpoint: this.options.label, err: error, currentTokenStillValid: valid },
          `IAM auth token refresh failed for the ${this.options.label}; retrying in ${Math.round(this.retryMs / 1000)}s`,
        );
        throw error;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private readonly retired: Array<string | undefined> = [];
}
