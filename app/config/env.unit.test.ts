// The environment contract: every variable validated at start, one line
// naming the culprit, never a secret in the message.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    assert.deepEqual(config.readers, []);
    assert.equal(config.writer.url.hostname, "db.internal");
    assert.equal(config.writer.iamRegion, undefined);
  });

  it("an empty DATABASE_URL_READ_REPLICA means no reader (as when the chart renders none)", () => {
    assert.deepEqual(loadConfig({ ...base, DATABASE_URL_READ_REPLICA: "" }).readers, []);
  });

  it("the reader comes from DATABASE_URL_READ_REPLICA", () => {
    const config = loadConfig({ ...base, DATABASE_URL_READ_REPLICA: "postgres://app:pw@replica:5433/tandem" });
    assert.equal(config.readers[0]?.role, "reader");
    assert.equal(config.readers[0]?.url.port, "5433");
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
    assert.equal(config.readers[0]?.iamRegion, "us-east-2");
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

  it("several readers: DATABASE_URL_READ_REPLICA takes a comma-separated list, each named by host:port", () => {
    const config = loadConfig({ ...base, DATABASE_URL_READ_REPLICA: "postgres://app:pw@r1:5433/tandem, postgres://app:pw@r2/tandem" });
    assert.deepEqual(
      config.readers.map((r) => r.name),
      ["r1:5433", "r2:5432"],
    );
    assert.ok(config.readers.every((r) => r.role === "reader"));
  });

  const listErrors: Array<[string, string, RegExp]> = [
    [
      "an empty item",
      "postgres://app:pw@r1/tandem,,postgres://app:pw@r2/tandem",
      /^DATABASE_URL_READ_REPLICA has an empty item \(position 2 of 3\)$/,
    ],
    [
      "a non-Postgres item",
      "postgres://app:pw@r1/tandem,mysql://app:pw@r2/db",
      /^DATABASE_URL_READ_REPLICA item 2 must be a postgresql:\/\/ URL/,
    ],
    [
      "the writer as a reader",
      "postgresql://app:other@DB.internal:5432/tandem",
      /^DATABASE_URL_READ_REPLICA lists the writer itself \(db\.internal:5432\)/,
    ],
    [
      "the same reader twice",
      "postgres://app:pw@r1/tandem,postgres://app:pw2@r1:5432/tandem",
      /^DATABASE_URL_READ_REPLICA lists r1:5432 twice$/,
    ],
  ];
  for (const [what, value, message] of listErrors) {
    it(`refuses a reader list with ${what}, naming the variable and no password`, () => {
      const text = failure({ ...base, DATABASE_URL_READ_REPLICA: value });
      assert.match(text, message);
      assert.doesNotMatch(text, /pw|other/);
    });
  }

  describe("credentials from mounted Secret files (*_FILE)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-env-"));
    const file = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };

    it("DATABASE_URL_FILE: the writer URL is read from the file, and again when it changes", () => {
      const path = file("url", "postgresql://app:first-pw@db.internal:5432/tandem\n");
      const config = loadConfig({ DATABASE_URL_FILE: path, MASTER_KEY: "k" });
      assert.equal(config.writer.name, "db.internal:5432");
      assert.equal(config.writer.current().password, "first-pw");
      writeFileSync(path, "postgresql://app:second-pw-longer@db.internal:5432/tandem");
      assert.equal(config.writer.current().password, "second-pw-longer");
    });

    it("DATABASE_PASSWORD_FILE: the password of a writer built from parts", () => {
      const path = file("password", "rotated-1");
      const config = loadConfig({
        DATABASE_HOST: "h",
        DATABASE_USERNAME: "u",
        DATABASE_NAME: "d",
        DATABASE_PASSWORD_FILE: path,
        MASTER_KEY: "k",
      });
      assert.equal(config.writer.current().password, "rotated-1");
      writeFileSync(path, "rotated-22");
      assert.equal(config.writer.current().password, "rotated-22");
    });

    it("DATABASE_URL_READ_REPLICA_FILE: every reader of the list, each keeping its place", () => {
      const path = file("readers", "postgres://app:a@r1/tandem,postgres://app:b@r2/tandem");
      const config = loadConfig({ ...base, DATABASE_URL_READ_REPLICA_FILE: path });
      assert.deepEqual(
        config.readers.map((r) => r.name),
        ["r1:5432", "r2:5432"],
      );
      writeFileSync(path, "postgres://app:a2@r1/tandem,postgres://app:b22@r2/tandem");
      assert.deepEqual(
        config.readers.map((r) => r.current().password),
        ["a2", "b22"],
      );
    });

    it("DATABASE_URL_READ_REPLICA_FILE may name several files (one Secret key each)", () => {
      const paths = [file("reader-1", "postgres://app:a@r1/tandem"), file("reader-2", "postgres://app:b@r2/tandem")];
      const config = loadConfig({ ...base, DATABASE_URL_READ_REPLICA_FILE: paths.join(",") });
      assert.deepEqual(
        config.readers.map((r) => r.name),
        ["r1:5432", "r2:5432"],
      );
    });

    it("a file that becomes unreadable keeps the last good value", () => {
      const path = file("url-gone", "postgresql://app:kept-pw@db.internal/tandem");
      const config = loadConfig({ DATABASE_URL_FILE: path, MASTER_KEY: "k" });
      writeFileSync(path, "");
      assert.equal(config.writer.current().password, "kept-pw");
    });

    it("MASTER_KEY_FILE: the master key from a file", () => {
      const config = loadConfig({ DATABASE_URL: base.DATABASE_URL, MASTER_KEY_FILE: file("master", "sk-from-file\n") });
      assert.equal(config.masterKey?.(), "sk-from-file");
    });

    const fileErrors: Array<[string, Record<string, string>, RegExp]> = [
      [
        "a variable and its file both set",
        { ...base, DATABASE_URL_FILE: "/x" },
        /^DATABASE_URL and DATABASE_URL_FILE are both set; set one of them$/,
      ],
      [
        "a reader URL and its file both set",
        { ...base, DATABASE_URL_READ_REPLICA: "postgres://r/t", DATABASE_URL_READ_REPLICA_FILE: "/x" },
        /^DATABASE_URL_READ_REPLICA and DATABASE_URL_READ_REPLICA_FILE are both set/,
      ],
      ["MASTER_KEY and its file both set", { ...base, MASTER_KEY_FILE: "/x" }, /^MASTER_KEY and MASTER_KEY_FILE are both set/],
      [
        "a missing file",
        { DATABASE_URL_FILE: join(dir, "nope"), MASTER_KEY: "k" },
        /^DATABASE_URL_FILE names a file that cannot be read \(ENOENT/,
      ],
      ["an empty file", { DATABASE_URL_FILE: file("empty", "  \n"), MASTER_KEY: "k" }, /^DATABASE_URL_FILE names an empty file/],
      [
        "a file that holds no Postgres URL",
        { DATABASE_URL_FILE: file("mysql", "mysql://u:s3cret-pw@h/d"), MASTER_KEY: "k" },
        /^DATABASE_URL_FILE must be a postgresql:\/\/ URL/,
      ],
    ];
    for (const [what, env, message] of fileErrors) {
      it(`refuses ${what} with one line naming the variables`, () => {
        const text = failure(env);
        assert.match(text, message);
        assert.doesNotMatch(text, /s3cret-pw/);
      });
    }
  });

  describe("Redis (LiteLLM's variables)", () => {
    it("REDIS_URL: redis:// and rediss://, with a database index; the password is a registered secret", () => {
      const plain = loadConfig({ ...base, REDIS_URL: "redis://cache.internal:6380/2" }).redis;
      assert.deepEqual([plain?.name, plain?.tls, plain?.db], ["cache.internal:6380", false, 2]);
      const tls = loadConfig({ ...base, REDIS_URL: "rediss://default:r3dis-pw@cache.internal" }).redis;
      assert.deepEqual([tls?.name, tls?.tls, tls?.username, tls?.password], ["cache.internal:6379", true, "default", "r3dis-pw"]);
    });

    it("REDIS_PORT=tcp://… is Kubernetes' service link for a Service named redis, not a setting: ignored", () => {
      assert.equal(loadConfig({ ...base, REDIS_PORT: "tcp://10.96.0.7:6379" }).redis, undefined);
      assert.equal(loadConfig({ ...base, REDIS_HOST: "r", REDIS_PORT: "tcp://10.96.0.7:6379" }).redis?.name, "r:6379");
    });

    it("REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_SSL", () => {
      const redis = loadConfig({ ...base, REDIS_HOST: "r", REDIS_PORT: "6390", REDIS_PASSWORD: "pw-1234", REDIS_SSL: "True" }).redis;
      assert.deepEqual([redis?.name, redis?.password, redis?.tls], ["r:6390", "pw-1234", true]);
    });

    it("no Redis variable: no Redis (per-pod behaviour)", () => assert.equal(loadConfig(base).redis, undefined));

    const bad: Array<[string, Record<string, string>, RegExp]> = [
      ["an http URL", { REDIS_URL: "http://cache" }, /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
      ["a URL and a host", { REDIS_URL: "redis://a", REDIS_HOST: "b" }, /^REDIS_URL and REDIS_HOST are both set/],
      ["a port without a host", { REDIS_PORT: "6379" }, /^REDIS_PORT is set but REDIS_HOST is not$/],
      ["a bad port", { REDIS_HOST: "r", REDIS_PORT: "http" }, /^REDIS_PORT must be a port number/],
      ["a bad REDIS_SSL", { REDIS_HOST: "r", REDIS_SSL: "yes" }, /^REDIS_SSL must be true or false$/],
    ];
    for (const [what, env, message] of bad) {
      it(`refuses ${what}, naming the variable`, () => {
        const text = failure({ ...base, ...env });
        assert.match(text, message);
      });
    }
  });

  it("migrate does not need MASTER_KEY", () => {
    assert.equal(loadConfig({ DATABASE_URL: base.DATABASE_URL }, "migrate").masterKey, undefined);
  });

  describe("reader discovery", () => {
    const reader = { ...base, DATABASE_URL_READ_REPLICA: "postgres://app:pw@db-ro.prod.svc:5432/tandem" };
    it("off by default: each address is used as it is, instance by instance", () => {
      assert.deepEqual(loadConfig(reader).readerDiscovery, {
        mode: "none",
        dnsServers: [],
        service: undefined,
        namespace: undefined,
        instanceHostPattern: undefined,
        zone: undefined,
      });
    });
    it("dns, with DNS servers of its own", () => {
      const config = loadConfig({
        ...reader,
        DATABASE_READ_REPLICA_DISCOVERY: "dns",
        DATABASE_READ_REPLICA_DNS_SERVERS: "10.96.0.10, 127.0.0.1:5353",
      });
      assert.deepEqual(config.readerDiscovery.dnsServers, ["10.96.0.10", "127.0.0.1:5353"]);
    });
    const bad: Array<[string, Record<string, string>, RegExp]> = [
      [
        "an unknown mode",
        { ...reader, DATABASE_READ_REPLICA_DISCOVERY: "consul" },
        /^DATABASE_READ_REPLICA_DISCOVERY must be none, dns, kubernetes or aurora$/,
      ],
      [
        "a DNS server given by name",
        { ...reader, DATABASE_READ_REPLICA_DNS_SERVERS: "kube-dns" },
        /^DATABASE_READ_REPLICA_DNS_SERVERS item 1 must be an IP address/,
      ],
      [
        "a Service name Kubernetes would refuse",
        { ...reader, DATABASE_READ_REPLICA_SERVICE: "DB_RO" },
        /^DATABASE_READ_REPLICA_SERVICE must be a Kubernetes Service name/,
      ],
      [
        "discovery without a reader",
        { ...base, DATABASE_READ_REPLICA_DISCOVERY: "dns" },
        /^DATABASE_READ_REPLICA_DISCOVERY is set but no reader is/,
      ],
    ];
    for (const [name, env, message] of bad) it(`${name}: one line naming the variable`, () => assert.match(failure(env), message));
  });
});
