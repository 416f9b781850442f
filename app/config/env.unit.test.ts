// The environment contract: every variable validated at start, one line
// naming the culprit, never a secret in the message.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./env.js";

const base = { DATABASE_URL: "postgresql://app:s3cret-pw@db.internal:5432/tandem", MASTER_KEY: "sk-master-1234" };

function failure(env: Record<string, string>, purpose: "serve" | "migrate" = "serve"): string {
  try {
    loadConfig(env, purpose);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error.message;
  }
  assert.fail("expected loadConfig to throw");
}

describe("environment configuration", () => {
  it("defaults: port 4000, health interval 5000 ms, pool 10, log level info, no reader", () => {
    const config = loadConfig(base);
    assert.equal(config.port, 4000);
    assert.equal(config.healthCheckIntervalMs, 5000);
    assert.equal(config.poolLimit, 10);
    assert.equal(config.logLevel, "info");
    assert.equal(config.reader, undefined);
    assert.equal(config.writer.url.hostname, "db.internal");
    assert.equal(config.writer.iamRegion, undefined);
  });

  it("an empty DATABASE_URL_READ_REPLICA means no reader (as when the chart renders none)", () => {
    assert.equal(loadConfig({ ...base, DATABASE_URL_READ_REPLICA: "" }).reader, undefined);
  });

  it("the reader comes from DATABASE_URL_READ_REPLICA", () => {
    const config = loadConfig({ ...base, DATABASE_URL_READ_REPLICA: "postgres://app:pw@replica:5433/tandem" });
    assert.equal(config.reader?.role, "reader");
    assert.equal(config.reader?.url.port, "5433");
  });

  it("builds the writer URL from DATABASE_HOST/PORT/USERNAME/PASSWORD/NAME, encoding special characters", () => {
    const config = loadConfig({
      DATABASE_HOST: "aurora.cluster-xyz.rds.amazonaws.com",
      DATABASE_PORT: "6543",
      DATABASE_USERNAME: "app",
      DATABASE_PASSWORD: "p@ss:w/rd",
      DATABASE_NAME: "litellm",
      MASTER_KEY: "sk-1",
    });
    assert.equal(config.writer.url.hostname, "aurora.cluster-xyz.rds.amazonaws.com");
    assert.equal(config.writer.url.port, "6543");
    assert.equal(decodeURIComponent(config.writer.url.password), "p@ss:w/rd");
    assert.equal(config.writer.url.pathname, "/litellm");
  });

  it("DATABASE_PARAMS adds URL parameters (the chart's db.params) to the writer built from parts", () => {
    const parts = { DATABASE_HOST: "h", DATABASE_USERNAME: "u", DATABASE_PASSWORD: "p", DATABASE_NAME: "d", MASTER_KEY: "k" };
    const config = loadConfig({ ...parts, DATABASE_PARAMS: "sslmode=verify-full&application_name=tandem-api" });
    assert.equal(config.writer.url.searchParams.get("sslmode"), "verify-full");
    assert.equal(config.writer.url.searchParams.get("application_name"), "tandem-api");
    assert.throws(() => loadConfig({ ...parts, DATABASE_PARAMS: "ssl mode=x" }), /DATABASE_PARAMS has an invalid parameter name/);
    assert.throws(
      () => loadConfig({ ...base, DATABASE_PARAMS: "sslmode=require" }),
      /DATABASE_PARAMS applies only to a writer built from DATABASE_HOST/,
    );
  });

  it("DATABASE_URL wins over the parts when both are set", () => {
    assert.equal(loadConfig({ ...base, DATABASE_HOST: "other" }).writer.url.hostname, "db.internal");
  });

  it("IAM: writer and reader get the region; the reader may override it", () => {
    const config = loadConfig({
      ...base,
      DATABASE_URL_READ_REPLICA: "postgresql://app@replica/tandem",
      IAM_TOKEN_DB_AUTH: "true",
      AWS_RDS_REGION: "us-west-2",
      AWS_RDS_READ_REPLICA_REGION: "us-east-2",
    });
    assert.equal(config.writer.iamRegion, "us-west-2");
    assert.equal(config.reader?.iamRegion, "us-east-2");
    assert.equal(loadConfig({ ...base, IAM_TOKEN_DB_AUTH: "1", AWS_REGION: "eu-central-1" }).writer.iamRegion, "eu-central-1");
  });

  it("IAM with DATABASE_HOST needs no DATABASE_PASSWORD", () => {
    const config = loadConfig({
      DATABASE_HOST: "h",
      DATABASE_USERNAME: "u",
      DATABASE_NAME: "d",
      IAM_TOKEN_DB_AUTH: "True",
      AWS_REGION: "us-east-1",
      MASTER_KEY: "k",
    });
    assert.equal(config.writer.url.password, "");
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ["no database at all", { MASTER_KEY: "k" }, /^DATABASE_URL must be set/],
    ["a non-URL DATABASE_URL", { ...base, DATABASE_URL: "not a url" }, /^DATABASE_URL is not a valid URL$/],
    ["a MySQL URL", { ...base, DATABASE_URL: "mysql://u:p@h/d" }, /^DATABASE_URL must be a postgresql:\/\/ URL/],
    [
      "a bad reader URL",
      { ...base, DATABASE_URL_READ_REPLICA: "http://replica" },
      /^DATABASE_URL_READ_REPLICA must be a postgresql:\/\/ URL/,
    ],
    [
      "a non-numeric DATABASE_PORT",
      { DATABASE_HOST: "h", DATABASE_PORT: "abc", MASTER_KEY: "k" },
      /^DATABASE_PORT must be an integer between 1 and 65535$/,
    ],
    [
      "DATABASE_HOST without a user",
      { DATABASE_HOST: "h", DATABASE_NAME: "d", DATABASE_PASSWORD: "p", MASTER_KEY: "k" },
      /^DATABASE_USERNAME must be set/,
    ],
    [
      "DATABASE_HOST without a password",
      { DATABASE_HOST: "h", DATABASE_USERNAME: "u", DATABASE_NAME: "d", MASTER_KEY: "k" },
      /^DATABASE_PASSWORD must be set/,
    ],
    ["IAM_TOKEN_DB_AUTH=yes", { ...base, IAM_TOKEN_DB_AUTH: "yes" }, /^IAM_TOKEN_DB_AUTH must be true or false/],
    ["IAM without a region", { ...base, IAM_TOKEN_DB_AUTH: "true" }, /^AWS_REGION \(or AWS_RDS_REGION\) must be set/],
    ["a zero pool", { ...base, DATABASE_CONNECTION_POOL_LIMIT: "0" }, /^DATABASE_CONNECTION_POOL_LIMIT must be at least 1$/],
    [
      "a fractional interval",
      { ...base, DATABASE_HEALTH_CHECK_INTERVAL_MS: "1.5" },
      /^DATABASE_HEALTH_CHECK_INTERVAL_MS must be an integer/,
    ],
    ["PORT out of range", { ...base, PORT: "70000" }, /^PORT must be at most 65535$/],
    ["an unknown LOG_LEVEL", { ...base, LOG_LEVEL: "verbose" }, /^LOG_LEVEL must be one of/],
    ["no MASTER_KEY to serve", { DATABASE_URL: base.DATABASE_URL }, /^MASTER_KEY must be set/],
  ];
  for (const [what, env, message] of bad) {
    it(`refuses ${what} with one line naming the variable`, () => {
      const text = failure(env);
      assert.match(text, message);
      assert.doesNotMatch(text, /s3cret-pw|sk-master-1234/, "never echoes a secret");
    });
  }

  it("migrate does not need MASTER_KEY", () => {
    assert.equal(loadConfig({ DATABASE_URL: base.DATABASE_URL }, "migrate").masterKey, undefined);
  });
});
