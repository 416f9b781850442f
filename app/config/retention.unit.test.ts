// Retention settings as LiteLLM writes them, and a clear error naming the setting otherwise.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { retentionDays, retentionIntervalMs } from "./retention.js";
import { loadConfig } from "./env.js";

describe("spend-log retention settings", () => {
  for (const [text, days] of [
    ["30d", 30],
    ["4w", 28],
    ["7", 7],
    [" 1d ", 1],
  ] as const)
    it(`period ${JSON.stringify(text)} → ${days} days`, () => assert.equal(retentionDays(text, "P"), days));
  for (const text of ["0d", "1mo", "12h", "30 days", ""])
    it(`period ${JSON.stringify(text)} is refused, naming the setting`, () =>
      assert.throws(
        () => retentionDays(text, "general_settings.maximum_spend_logs_retention_period"),
        /maximum_spend_logs_retention_period must be/,
      ));
  for (const [text, ms] of [
    ["1h", 3_600_000],
    ["30m", 1_800_000],
    ["1d", 86_400_000],
  ] as const)
    it(`interval ${text} → ${ms} ms`, () => assert.equal(retentionIntervalMs(text, "I"), ms));
  for (const text of ["10s", "1w", "hourly"])
    it(`interval ${JSON.stringify(text)} is refused`, () => assert.throws(() => retentionIntervalMs(text, "I"), /I must be a duration/));
  it("a bad SPEND_LOGS_RETENTION_PERIOD is a one-line startup error naming it", () =>
    assert.throws(
      () => loadConfig({ DATABASE_URL: "postgresql://u:p@h/d", MASTER_KEY: "sk-m", SPEND_LOGS_RETENTION_PERIOD: "forever" }),
      /^ConfigError: SPEND_LOGS_RETENTION_PERIOD must be a whole number of days or weeks/,
    ));
});
