// general_settings.database_connection_pool_limit and proxy_batch_write_at apply unless the environment set them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "./env.js";
import { withFileSettings } from "./file-settings.js";
import { parseProxyConfig } from "./model-config.js";

const base = { poolLimit: 10, spendFlushIntervalMs: 1000 } as Config;

describe("LiteLLM general_settings that tandem's environment also sets", () => {
  const cases: Array<[string, Partial<Config>, { databasePoolLimit?: number; spendFlushIntervalMs?: number }, [number, number]]> = [
    ["neither: the defaults", {}, {}, [10, 1000]],
    ["the file's, where the environment set nothing", {}, { databasePoolLimit: 3, spendFlushIntervalMs: 5000 }, [3, 5000]],
    [
      "the environment's over the file's",
      { poolLimit: 7, spendFlushIntervalMs: 250, fromEnv: { poolLimit: true, spendFlushIntervalMs: true } },
      { databasePoolLimit: 3, spendFlushIntervalMs: 5000 },
      [7, 250],
    ],
    ["each on its own", { poolLimit: 7, fromEnv: { poolLimit: true } }, { databasePoolLimit: 3, spendFlushIntervalMs: 5000 }, [7, 5000]],
  ];
  for (const [name, env, file, [pool, flush]] of cases) {
    it(name, () => {
      const config = withFileSettings({ ...base, ...env }, file);
      assert.deepEqual([config.poolLimit, config.spendFlushIntervalMs], [pool, flush]);
    });
  }
});

describe("reading them from a LiteLLM config file", () => {
  it("proxy_batch_write_at (seconds) and database_connection_pool_limit are read, and not warned about", () => {
    const config = parseProxyConfig(
      "general_settings:\n  proxy_batch_write_at: 2.5\n  database_connection_pool_limit: 4\n",
      "config.yaml",
      {},
    );
    assert.deepEqual([config.spendFlushIntervalMs, config.databasePoolLimit], [2500, 4]);
    assert.deepEqual(
      config.warnings.filter((w) => /proxy_batch_write_at|database_connection_pool_limit/.test(w)),
      [],
    );
  });

  it("a bad value stops the start with a line naming it", () => {
    assert.throws(
      () => parseProxyConfig("general_settings:\n  database_connection_pool_limit: 0\n", "config.yaml", {}),
      /database_connection_pool_limit/,
    );
  });
});
