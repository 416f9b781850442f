import type { Database } from "../db/database.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { SpendQueue } from "../services/billing/spend-queue.js";
import type { CostEstimates } from "../services/billing/cost-estimates.js";
import type { ProxyBudget } from "../services/billing/proxy-budget.js";
import type { ResponseCache } from "../services/upstream/response-cache.js";
import type { CacheSettings } from "../config/model-config.js";
import type { ModelRouter } from "../services/upstream/model-router.js";
import type { CallerCache } from "../services/access/caller-cache.js";
import type { EndUsers } from "../services/access/end-users.js";
import type { Admissions } from "../services/access/admission.js";
import type { RedisLink } from "../fleet/redis-link.js";
import type { UpstreamClient } from "../services/upstream/upstream-client.js";
import type { DeploymentHealth } from "../services/upstream/deployment-health.js";
import type { PassThroughEndpoint } from "../config/pass-through.js";
import type { SessionRevocations } from "../services/ui/session-revocations.js";
import type { ModelSync } from "../services/models/model-sync.js";
import type { BuildContext } from "../services/models/stored-models.js";

/** Work that must finish before the process exits (spend writes after a response). */
export class Lifecycle {
  draining = false;
  private readonly pending = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/** Everything the HTTP layer needs, built once by the server. */
export interface AppContext {
  database: Database;
  router: ModelRouter;
  /** Keys seen a moment ago (bounded by the replica staleness bound), dropped on this pod's writes. */
  callers: CallerCache;
  upstream: UpstreamClient;
  /** general_settings.pass_through_endpoints. */
  passThrough: readonly PassThroughEndpoint[];
  /** Models kept in the database (general_settings.store_model_in_db): how they are built, and this pod's reload. */
  storedModels?: { sync: ModelSync; at: BuildContext };
  /** GET /health's calls to each deployment (on demand, or the background loop's last run). */
  deploymentHealth: DeploymentHealth;
  /** Rate limits and budgets: the fleet's in Redis when there is one, else this pod's. */
  admissions: Admissions;
  masterKey: string;
  log: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  spend: SpendQueue;
  /** Expected cost per key and model, for budget reservations. */
  costEstimates: CostEstimates;
  /** LiteLLM's global proxy budget, when litellm_settings.max_budget is set. */
  proxyBudget: ProxyBudget;
  endUsers: EndUsers;
  /** The response cache, when litellm_settings.cache is on. */
  responseCache?: { cache: ResponseCache; settings: CacheSettings };
  /** The fleet's Redis, when configured (readiness shows its state). */
  redis?: RedisLink;
  /** The admin UI: whether it is served, its sign-in (UI_USERNAME / UI_PASSWORD), sign-outs. */
  ui: { enabled: boolean; username: string; password?: string; revocations: SessionRevocations };
  /** This proxy's own address once it listens (for calls it makes to itself: batch completions). */
  selfBase?: string;
}
