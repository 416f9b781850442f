import type { Config } from "./env.js";
import type { ProxyConfig } from "./model-config.js";

/** The settings a LiteLLM config file's general_settings may give, where the environment did not. */
export function withFileSettings(config: Config, file: Partial<Pick<ProxyConfig, "databasePoolLimit" | "spendFlushIntervalMs">>): Config {
  return {
    ...config,
    ...(!config.fromEnv?.poolLimit && file.databasePoolLimit !== undefined ? { poolLimit: file.databasePoolLimit } : {}),
    ...(!config.fromEnv?.spendFlushIntervalMs && file.spendFlushIntervalMs !== undefined
      ? { spendFlushIntervalMs: file.spendFlushIntervalMs }
      : {}),
  };
}
