import type { RoutedClient } from "../../db/routing-client.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { registerSecret } from "../../observability/secrets.js";
import type { ModelRouter } from "../upstream/model-router.js";
import { ModelSync } from "./model-sync.js";
import { SecretBox } from "./secret-box.js";
import { loadStoredModels, type BuildContext } from "./stored-models.js";

/** How often each pod reads the stored models again (what a missed invalidation, or no Redis, can delay). */
export const MODEL_RELOAD_MS = 10_000;

/**
 * general_settings.store_model_in_db: the models kept in the database, sealed under LITELLM_SALT_KEY
 * (else the master key at start, as LiteLLM does), loaded into this pod's router and kept in step.
 * One that cannot be served is said once in the log and in the unserved metric, as a config entry is.
 */
export function serveStoredModels(
  parts: { db: RoutedClient; router: ModelRouter; metrics: Metrics; log: Logger },
  secrets: { saltKey?: string; masterKey: string },
  routerTimeoutMs: number,
): { sync: ModelSync; at: BuildContext } {
  registerSecret(secrets.saltKey);
  const at: BuildContext = { env: process.env, timeoutS: routerTimeoutMs / 1000, box: new SecretBox(secrets.saltKey ?? secrets.masterKey) };
  const said = new Set<string>();
  const sync = new ModelSync(
    () => loadStoredModels(parts.db, at),
    ({ deployments, unserved }) => {
      parts.router.replaceStored(deployments, unserved);
      for (const entry of unserved) {
        parts.metrics.unservedDeployments.set({ model_group: entry.name, deployment: entry.id, provider: entry.provider }, 1);
        if (said.has(`${entry.id}:${entry.reason}`)) continue;
        said.add(`${entry.id}:${entry.reason}`);
        parts.log.warn(`${entry.reason}; ${entry.name} (${entry.id}) is not served`);
      }
    },
    parts.log,
  );
  return { sync, at };
}
