import { z } from "zod";
import { retentionSettings, type RetentionSettings } from "./retention.js";
import { databaseEndpoints, EndpointConfigError, type EndpointConfig } from "./db-endpoints.js";
import { SecretFile, SecretFileError } from "./secret-file.js";
import { REDIS_ENV_NAMES, redisConfig, RedisConfigError, type RedisConfig } from "./redis.js";

export type { EndpointConfig };

/**
 * `none`: connections through each reader address are asked which instance
 * they reached (a Service or a balancer is used as it is). `dns`: every A/AAAA
 * record of its host name. `kubernetes`: the EndpointSlices of a Service.
 * `aurora`: the cluster's topology (`aurora_replica_status()` on the writer).
 */
export interface ReaderDiscoveryConfig {
  mode: "none" | "dns" | "kubernetes" | "aurora";
  /** DATABASE_READ_REPLICA_DNS_SERVERS: ask these DNS servers (ip or ip:port) instead of the system resolver. */
  dnsServers: string[];
  /** DATABASE_READ_REPLICA_SERVICE: the Service whose EndpointSlices list the replicas (default: the address's first host label). */
  service?: string;
  /** DATABASE_READ_REPLICA_NAMESPACE: its namespace (default: the address's second host label, or the pod's own). */
  namespace?: string;
  /** DATABASE_READ_REPLICA_ZONE: this pod's zone; replicas the platform puts in it (EndpointSlice `zone`) are read first. */
  zone?: string;
  /** DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN: `aurora`: an instance's endpoint, `?` its identifier (default: from the cluster endpoint). */
  instanceHostPattern?: string;
}

export interface Config {
  writer: EndpointConfig;
  /** Zero, one or several read replicas (DATABASE_URL_READ_REPLICA, comma-separated). */
  readers: EndpointConfig[];
  /** How the instances behind each reader address are found (DATABASE_READ_REPLICA_DISCOVERY). */
  readerDiscovery: ReaderDiscoveryConfig;
  healthCheckIntervalMs: number;
  /** Bounded staleness: a reader further behind the writer than this serves no reads. */
  readerMaxLagMs: number;
  /** A read on the reader that takes longer (connect + query) is answered by the writer instead. */
  readTimeoutMs: number;
  /** Client-side bound on any one statement on either endpoint (a hung server can't hold a request). */
  queryTimeoutMs: number;
  /**
   * Read-your-writes on demand: how long a read that needs a write no reader
   * was seen replaying waits for one instance to say whether it has it by now
   * (else the writer answers). 0: no asking; such reads go to the writer until
   * a health cycle sees a reader with the write.
   */
  replayCheckTimeoutMs: number;
  /** DATABASE_CONNECTION_POOL_LIMIT: each endpoint's pool (writer, each reader instance); default 10. */
  poolLimit: number;
  /** Which of the settings a LiteLLM config file may also give were set here (the environment wins). */
  fromEnv?: { poolLimit?: boolean; spendFlushIntervalMs?: boolean };
  /** A pooled connection is closed after about this long (±20 %), so DNS names over several instances spread again. */
  connectionMaxLifetimeMs: number;
  /** How often this pod writes its queued spend (one writer transaction per flush). */
  /** How long a key (with team and user) is served from memory; ≤ readerMaxLagMs; 0 = off. */
  keyCacheTtlMs: number;
  spendFlushIntervalMs: number;
  /** SPEND_LOGS_RETENTION_PERIOD / _INTERVAL where set (else the config file's; else rows kept, hourly). */
  spendRetention: RetentionSettings;
  /** REDIS_URL or REDIS_HOST…: the fleet's shared limits and invalidations (undefined: per-pod behaviour). */
  redis?: RedisConfig;
  /** Bound on one Redis command on the request path; past it the pod uses its own state (default 50). */
  redisCommandTimeoutMs: number;
  /** MASTER_KEY, or the current content of MASTER_KEY_FILE (read again when the file changes). */
  masterKey?: () => string;
  /** LiteLLM's name for it; MASTER_KEY and general_settings.master_key win. */
  litellmMasterKey?: string;
  /** LITELLM_SALT_KEY: seals upstream secrets of models kept in the database (else the master key at start). */
  saltKey?: string;
  /** The admin UI's sign-in (LiteLLM's UI_USERNAME / UI_PASSWORD; the master key always signs in too). */
  ui: { enabled: boolean; username: string; password?: string };
  port: number;
  configFile?: string;
  /** How long SIGTERM waits for in-flight requests and streams. */
  shutdownTimeoutMs: number;
  /** After SIGTERM, readiness answers 503 this long before the listener closes, so load balancers stop sending first. */
  shutdownDelayMs: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** A bad environment: the message names the variable and never echoes a secret. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** A Service's or namespace's name as Kubernetes accepts it (an RFC 1123 label). */
const kubernetesName = (what: string) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, `must be a Kubernetes ${what} name (lowercase letters, digits and '-')`)
      .optional(),
  );

const integer = (min: number, max: number) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^\d+$/, { message: `must be an integer between ${min} and ${max}` })
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional(),
  );

const boolean = optionalString.pipe(
  z
    .enum(["True", "true", "TRUE", "1", "False", "false", "FALSE", "0"], {
      message: "must be true or false (True/true/1, False/false/0)",
    })
    .transform((v) => ["True", "true", "TRUE", "1"].includes(v))
    .optional(),
);

const EnvSchema = z.object({
  DATABASE_URL: optionalString,
  DATABASE_URL_FILE: optionalString,
  DATABASE_HOST: optionalString,
  DATABASE_PORT: integer(1, 65535),
  DATABASE_USERNAME: optionalString,
  DATABASE_PASSWORD: z.string().optional(),
  DATABASE_PASSWORD_FILE: optionalString,
  DATABASE_NAME: optionalString,
  DATABASE_PARAMS: optionalString,
  DATABASE_URL_READ_REPLICA: optionalString,
  DATABASE_URL_READ_REPLICA_FILE: optionalString,
  IAM_TOKEN_DB_AUTH: boolean,
  AWS_REGION: optionalString,
  AWS_RDS_REGION: optionalString,
  AWS_RDS_READ_REPLICA_REGION: optionalString,
  DATABASE_HEALTH_CHECK_INTERVAL_MS: integer(100, 3_600_000),
  DATABASE_CONNECTION_POOL_LIMIT: integer(1, 1000),
  DATABASE_READ_REPLICA_MAX_LAG_MS: integer(0, 86_400_000),
  DATABASE_READ_TIMEOUT_MS: integer(50, 600_000),
  DATABASE_QUERY_TIMEOUT_MS: integer(100, 3_600_000),
  DATABASE_READ_YOUR_WRITES_CHECK_MS: integer(0, 60_000),
  DATABASE_READ_REPLICA_DISCOVERY: optionalString.pipe(
    z.enum(["none", "dns", "kubernetes", "aurora"], { message: "must be none, dns, kubernetes or aurora" }).optional(),
  ),
  DATABASE_READ_REPLICA_DNS_SERVERS: optionalString,
  DATABASE_READ_REPLICA_ZONE: optionalString,
  DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN: optionalString.pipe(
    z
      .string()
      .regex(/^[^?]*\?[^?]*$/, "must contain exactly one ? (where the instance identifier goes), e.g. ?.abc123.us-east-1.rds.amazonaws.com")
      .optional(),
  ),
  DATABASE_READ_REPLICA_SERVICE: kubernetesName("Service"),
  DATABASE_READ_REPLICA_NAMESPACE: kubernetesName("namespace"),
  DATABASE_CONNECTION_MAX_LIFETIME_MS: integer(1000, 86_400_000),
  SPEND_FLUSH_INTERVAL_MS: integer(10, 600_000),
  SPEND_LOGS_RETENTION_PERIOD: optionalString,
  SPEND_LOGS_RETENTION_INTERVAL: optionalString,
  KEY_CACHE_TTL_MS: integer(0, 3_600_000),
  MASTER_KEY: optionalString,
  REDIS_URL: optionalString,
  REDIS_HOST: optionalString,
  REDIS_PORT: optionalString,
  REDIS_USERNAME: optionalString,
  REDIS_PASSWORD: optionalString,
  REDIS_SSL: optionalString,
  REDIS_COMMAND_TIMEOUT_MS: integer(5, 10_000),
  MASTER_KEY_FILE: optionalString,
  LITELLM_MASTER_KEY: optionalString,
  LITELLM_SALT_KEY: optionalString,
  UI_USERNAME: optionalString,
  UI_PASSWORD: optionalString,
  DISABLE_ADMIN_UI: optionalString.pipe(z.enum(["true", "false", "True", "False"], { message: "must be true or false" }).optional()),
  PORT: integer(0, 65535), // 0 = any free port (tests)
  CONFIG_FILE: optionalString,
  SHUTDOWN_TIMEOUT_MS: integer(0, 3_600_000),
  SHUTDOWN_DELAY_MS: integer(0, 600_000),
  LOG_LEVEL: optionalString.pipe(
    z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        message: "must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .optional(),
  ),
});

type Purpose = "serve" | "migrate";

export function loadConfig(env: NodeJS.ProcessEnv, purpose: Purpose = "serve"): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "environment");
    throw new ConfigError(`${variable} ${issue?.message ?? "is invalid"}`);
  }
  const e = parsed.data;
  let endpoints: ReturnType<typeof databaseEndpoints>;
  let masterKey: (() => string) | undefined;
  let redis: RedisConfig | undefined;
  let spendRetention: RetentionSettings;
  try {
    spendRetention = retentionSettings(
      { period: e.SPEND_LOGS_RETENTION_PERIOD, interval: e.SPEND_LOGS_RETENTION_INTERVAL },
      { period: "SPEND_LOGS_RETENTION_PERIOD", interval: "SPEND_LOGS_RETENTION_INTERVAL" },
    );
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  try {
    endpoints = databaseEndpoints(e);
    masterKey = masterKeyOf(e);
    redis = redisConfig(
      {
        url: e.REDIS_URL,
        host: e.REDIS_HOST,
        // A Service named `redis` in the namespace makes Kubernetes inject REDIS_PORT=tcp://<ip>:6379
        // (a service link) into every pod that does not turn them off: not a port anyone set.
        port: e.REDIS_PORT?.startsWith("tcp://") ? undefined : e.REDIS_PORT,
        username: e.REDIS_USERNAME,
        password: e.REDIS_PASSWORD,
        ssl: e.REDIS_SSL,
      },
      REDIS_ENV_NAMES,
    );
  } catch (error) {
    if (error instanceof EndpointConfigError || error instanceof SecretFileError || error instanceof RedisConfigError)
      throw new ConfigError(error.message);
    throw error;
  }

  // The config file may name the master key (general_settings.master_key); it is read after this.
  if (purpose === "serve" && !masterKey && !e.LITELLM_MASTER_KEY && !e.CONFIG_FILE) {
    throw new ConfigError("MASTER_KEY must be set (the admin bearer token; LITELLM_MASTER_KEY and general_settings.master_key also work)");
  }

  if (e.DATABASE_READ_REPLICA_DISCOVERY && e.DATABASE_READ_REPLICA_DISCOVERY !== "none" && endpoints.readers.length === 0) {
    throw new ConfigError(
      "DATABASE_READ_REPLICA_DISCOVERY is set but no reader is: set DATABASE_URL_READ_REPLICA to the replicas' address",
    );
  }
  return {
    writer: endpoints.writer,
    readers: endpoints.readers,
    readerDiscovery: {
      mode: e.DATABASE_READ_REPLICA_DISCOVERY ?? "none",
      dnsServers: dnsServers(e.DATABASE_READ_REPLICA_DNS_SERVERS),
      service: e.DATABASE_READ_REPLICA_SERVICE,
      namespace: e.DATABASE_READ_REPLICA_NAMESPACE,
      instanceHostPattern: e.DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN,
      zone: e.DATABASE_READ_REPLICA_ZONE,
    },
    healthCheckIntervalMs: e.DATABASE_HEALTH_CHECK_INTERVAL_MS ?? 5000,
    readerMaxLagMs: e.DATABASE_READ_REPLICA_MAX_LAG_MS ?? 5000,
    readTimeoutMs: e.DATABASE_READ_TIMEOUT_MS ?? 1500,
    queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS ?? 30_000,
    // Short: the writer answers such a read in a millisecond; an instance slower than
    // this to say whether it has the write is no better a place for it.
    replayCheckTimeoutMs: Math.min(e.DATABASE_READ_YOUR_WRITES_CHECK_MS ?? 250, e.DATABASE_READ_TIMEOUT_MS ?? 1500),
    spendFlushIntervalMs: e.SPEND_FLUSH_INTERVAL_MS ?? 1000,
    spendRetention,
    // Never staler than the replica may be: the cache is one more reader under the same bound.
    keyCacheTtlMs: Math.min(e.KEY_CACHE_TTL_MS ?? 60_000, e.DATABASE_READ_REPLICA_MAX_LAG_MS ?? 5000),
    poolLimit: e.DATABASE_CONNECTION_POOL_LIMIT ?? 10,
    fromEnv: { poolLimit: e.DATABASE_CONNECTION_POOL_LIMIT !== undefined, spendFlushIntervalMs: e.SPEND_FLUSH_INTERVAL_MS !== undefined },
    connectionMaxLifetimeMs: e.DATABASE_CONNECTION_MAX_LIFETIME_MS ?? 300_000,
    masterKey,
    redis,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS ?? 50,
    litellmMasterKey: e.LITELLM_MASTER_KEY,
    saltKey: e.LITELLM_SALT_KEY,
    ui: { enabled: e.DISABLE_ADMIN_UI?.toLowerCase() !== "true", username: e.UI_USERNAME ?? "admin", password: e.UI_PASSWORD },
    port: e.PORT ?? 4000,
    configFile: e.CONFIG_FILE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS ?? 25_000,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS ?? 0,
    logLevel: e.LOG_LEVEL ?? "info",
  };
}

function masterKeyOf(e: z.infer<typeof EnvSchema>): (() => string) | undefined {
  if (e.MASTER_KEY && e.MASTER_KEY_FILE) throw new ConfigError("MASTER_KEY and MASTER_KEY_FILE are both set; set one of them");
  if (e.MASTER_KEY_FILE) {
    const file = new SecretFile(e.MASTER_KEY_FILE, "MASTER_KEY_FILE", (key) => key, 1000);
    return () => file.current();
  }
  const fixed = e.MASTER_KEY;
  return fixed ? () => fixed : undefined;
}

/** `10.0.0.2,10.0.0.3:5353,[fd00::53]:53` — addresses only: a name here could not be resolved without DNS. */
function dnsServers(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(",").map((item, index) => {
    const server = item.trim();
    if (!/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:]+\](:\d{1,5})?|[0-9a-fA-F:]+)$/.test(server)) {
      throw new ConfigError(`DATABASE_READ_REPLICA_DNS_SERVERS item ${index + 1} must be an IP address, optionally with :port`);
    }
    return server;
  });
}
