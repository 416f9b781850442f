import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import type { CacheSettings } from "../../config/model-config.js";
import type { Admissions } from "../access/admission.js";
import type { CostEstimates } from "../billing/cost-estimates.js";
import type { ProxyBudget } from "../billing/proxy-budget.js";
import type { EndUsers } from "../access/end-users.js";
import type { SpendQueue } from "../billing/spend-queue.js";
import type { ModelRouter } from "../upstream/model-router.js";
import type { ResponseCache } from "../upstream/response-cache.js";
import type { UpstreamClient } from "../upstream/upstream-client.js";

/** What the proxy pipeline uses of the running server (the HTTP layer's context has all of it). */
export interface ProxyDeps {
  router: ModelRouter;
  upstream: UpstreamClient;
  admissions: Admissions;
  spend: SpendQueue;
  costEstimates: CostEstimates;
  proxyBudget: ProxyBudget;
  endUsers: EndUsers;
  responseCache?: { cache: ResponseCache; settings: CacheSettings };
  metrics: Metrics;
  log: Logger;
  masterKey: string;
}
