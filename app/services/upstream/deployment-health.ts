import type { Deployment, HealthCheckSettings } from "../../config/model-config.js";
import type { Logger } from "../../observability/logger.js";
import { probeDeployment, type ProbeOutcome } from "./health-probe.js";
import type { UpstreamClient } from "./upstream-client.js";

/** One deployment's last health call. */
export type EndpointHealth = { deployment: Deployment } & ProbeOutcome;

/** A run over deployments: when it ended, and each one's outcome. */
export interface HealthRun {
  at: number;
  endpoints: EndpointHealth[];
}

/** At most this many health calls at once: a file of a hundred deployments must not open a hundred connections in one go. */
const CONCURRENCY = 8;

/**
 * LiteLLM's deployment health checks: GET /health calls each deployment, or —
 * with background_health_checks — answers what the last run of a loop found,
 * so a monitor polling /health does not multiply upstream calls (and cost).
 * Each pod runs its own loop, as each LiteLLM instance does.
 */
export class DeploymentHealth {
  private current?: Promise<HealthRun>;
  private last?: HealthRun;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly settings: HealthCheckSettings,
    private readonly observe: (endpoint: EndpointHealth) => void,
    private readonly log: Logger,
  ) {}

  get background(): boolean {
    return this.settings.background;
  }

  /** health_check_details: false shows each endpoint's model and error only. */
  get details(): boolean {
    return this.settings.details;
  }

  /** Calls each deployment once, CONCURRENCY at a time; the outcomes in the deployments' order. */
  async check(deployments: readonly Deployment[]): Promise<HealthRun> {
    const endpoints: EndpointHealth[] = new Array(deployments.length);
    let next = 0;
    const worker = async () => {
      while (next < deployments.length) {
        const index = next++;
        const deployment = deployments[index]!;
        endpoints[index] = { deployment, ...(await probeDeployment(this.upstream, deployment)) };
        this.observe(endpoints[index]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, deployments.length) }, worker));
    return { at: Date.now(), endpoints };
  }

  /** With background checks: the last run, or the first one while it is under way. */
  async latest(): Promise<HealthRun> {
    return this.last ?? (await this.current) ?? { at: Date.now(), endpoints: [] };
  }

  /** Starts the loop (background_health_checks): a run now, then one every health_check_interval. Returns its stop. */
  start(deployments: () => readonly Deployment[]): () => void {
    if (!this.settings.background) return () => undefined;
    let stopped = false;
    const run = () => {
      this.current = this.check(deployments());
      void this.current
        .then(
          (result) => {
            this.last = result;
            const unhealthy = result.endpoints.filter((e) => !e.healthy).map((e) => e.deployment.id);
            if (unhealthy.length > 0) this.log.warn({ unhealthy }, "background health check: deployments failed their health call");
          },
          (error: unknown) => this.log.error({ err: error }, "background health check failed"),
        )
        .finally(() => {
          if (!stopped) this.timer = setTimeout(run, this.settings.intervalMs).unref();
        });
    };
    run();
    return () => {
      stopped = true;
      clearTimeout(this.timer);
    };
  }
}
