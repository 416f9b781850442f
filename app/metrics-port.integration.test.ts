// METRICS_PORT (the chart's `metrics.port`): `/metrics` moves to its own listener, so a
// NetworkPolicy can admit scrapers there and API clients on the API port only.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "./config/env.js";
import { metricsPortFromEnv, startServer, type RunningServer } from "./server.js";
import { parseProxyConfig } from "./config/model-config.js";
import { captureLogs } from "./test-support/logs.js";
import { configFor, startMigratedPair, type LocalPair } from "./test-support/pair.js";

describe("METRICS_PORT parsing", () => {
  const cases: Array<[string | undefined, number | undefined | "error"]> = [
    [undefined, undefined],
    ["", undefined],
    ["9090", 9090],
    [" 9464 ", 9464],
    ["0", "error"],
    ["65536", "error"],
    ["90a", "error"],
    ["-1", "error"],
  ];
  for (const [raw, want] of cases) {
    it(`METRICS_PORT=${JSON.stringify(raw)} -> ${want === "error" ? "a ConfigError naming METRICS_PORT" : String(want)}`, () => {
      const env = raw === undefined ? {} : { METRICS_PORT: raw };
      if (want === "error")
        assert.throws(
          () => metricsPortFromEnv(env),
          (e: unknown) => e instanceof ConfigError && /METRICS_PORT/.test(e.message),
        );
      else assert.equal(metricsPortFromEnv(env), want);
    });
  }
});

describe("a separate metrics port", () => {
  let pair: LocalPair;
  let tandem: RunningServer;

  before(async () => {
    pair = await startMigratedPair();
    tandem = await startServer(configFor(pair, { PORT: "0" }), parseProxyConfig("model_list: []", "test", {}), captureLogs("warn").logger, {
      metricsPort: 0,
    });
  });

  after(async () => {
    await tandem?.shutdown(5000);
    await pair?.stop();
  });

  it("serves /metrics on the metrics port and not on the API port", async () => {
    assert.ok(tandem.metricsPort && tandem.metricsPort !== tandem.port, `metrics port ${tandem.metricsPort}, API port ${tandem.port}`);
    const metrics = await fetch(`http://127.0.0.1:${tandem.metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /tandem_db_queries_total\{endpoint="reader"\}/);
    const onApi = await fetch(`http://127.0.0.1:${tandem.port}/metrics`);
    assert.equal(onApi.status, 404);
  });

  it("serves nothing but /metrics on the metrics port", async () => {
    const health = await fetch(`http://127.0.0.1:${tandem.metricsPort}/health/readiness`);
    assert.equal(health.status, 404);
    const api = await fetch(`http://127.0.0.1:${tandem.port}/health/readiness`);
    assert.equal(api.status, 200);
  });
});
