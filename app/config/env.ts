import { z } from "zod";
import { buildDatabaseUrl, DatabaseUrlError, parseDatabaseUrl } from "../db/url.js";

/** One database endpoint as the rest of the app sees it. */
export interface EndpointConfig {
  role: "writer" | "reader";
  url: URL;
  /** RDS IAM: the region the token is signed for; undefined = password auth. */
  iamRegion?: string;
}

export interface Config {
  writer: EndpointConfig;
  reader?: EndpointConfig;
  healthCheckIntervalMs: number;
  /** Bounded staleness: a reader further behind the writer than this serves no reads. */
  readerMaxLagMs: number;
  /** A read on the reader that takes longer (connect + query) is answered by the writer instead. */
  readTimeoutMs: number;
  /** Client-side bound on any one statement on either endpoint (a hung server can't hold a request). */
  queryTimeoutMs: number;
  poolLimit: number;
  /** How often this pod writes its queued spend (one writer transaction per flush). */
  /** How long a key (with team and user) is served from memory; ≤ readerMaxLagMs; 0 = off. */
  keyCacheTtlMs: number;
  spendFlushIntervalMs: number;
  masterKey?: string;
  /** LiteLLM's name for it; MASTER_KEY and general_settings.master_key win. */
  litellmMasterKey?: string;
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
  DATABASE_HOST: optionalString,
  DATABASE_PORT: integer(1, 65535),
  DATABASE_USERNAME: optionalString,
  DATABASE_PASSWORD: z.string().optional(),
  DATABASE_NAME: optionalString,
  DATABASE_PARAMS: optionalString,
  DATABASE_URL_READ_REPLICA: optionalString,
  IAM_TOKEN_DB_AUTH: boolean,
  AWS_REGION: optionalString,
  AWS_RDS_REGION: optionalString,
  AWS_RDS_READ_REPLICA_REGION: optionalString,
  DATABASE_HEALTH_CHECK_INTERVAL_MS: integer(100, 3_600_000),
  DATABASE_CONNECTION_POOL_LIMIT: integer(1, 1000),
  DATABASE_READ_REPLICA_MAX_LAG_MS: integer(0, 86_400_000),
  DATABASE_READ_TIMEOUT_MS: integer(50, 600_000),
  DATABASE_QUERY_TIMEOUT_MS: integer(100, 3_600_000),
  SPEND_FLUSH_INTERVAL_MS: integer(10, 600_000),
  KEY_CACHE_TTL_MS: integer(0, 3_600_000),
  MASTER_KEY: optionalString,
  LITELLM_MASTER_KEY: optionalString,
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
  const iam = e.IAM_TOKEN_DB_AUTH ?? false;
  const region = e.AWS_RDS_REGION ?? e.AWS_REGION;
  if (iam && !region) {
    throw new ConfigError("AWS_REGION (or AWS_RDS_REGION) must be set when IAM_TOKEN_DB_AUTH is true");
  }

  const writer: EndpointConfig = { role: "writer", url: writerUrl(e, iam), iamRegion: iam ? region : undefined };
  const reader: EndpointConfig | undefined = e.DATABASE_URL_READ_REPLICA
    ? {
        role: "reader",
        url: asUrl(e.DATABASE_URL_READ_REPLICA, "DATABASE_URL_READ_REPLICA"),
        iamRegion: iam ? (e.AWS_RDS_READ_REPLICA_REGION ?? region) : undefined,
      }
    : undefined;

  // The config file may name the master key (general_settings.master_key); it is read after this.
  if (purpose === "serve" && !e.MASTER_KEY && !e.LITELLM_MASTER_KEY && !e.CONFIG_FILE) {
    throw new ConfigError("MASTER_KEY must be set (the admin bearer token; LITELLM_MASTER_KEY and general_settings.master_key also work)");
  }

  return {
    writer,
    reader,
    healthCheckIntervalMs: e.DATABASE_HEALTH_CHECK_INTERVAL_MS ?? 5000,
    readerMaxLagMs: e.DATABASE_READ_REPLICA_MAX_LAG_MS ?? 5000,
    readTimeoutMs: e.DATABASE_READ_TIMEOUT_MS ?? 1500,
    queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS ?? 30_000,
    spendFlushIntervalMs: e.SPEND_FLUSH_INTERVAL_MS ?? 1000,
    // Never staler than the replica may be: the cache is one more reader under the same bound.
    keyCacheTtlMs: Math.min(e.KEY_CACHE_TTL_MS ?? 60_000, e.DATABASE_READ_REPLICA_MAX_LAG_MS ?? 5000),
    poolLimit: e.DATABASE_CONNECTION_POOL_LIMIT ?? 10,
    masterKey: e.MASTER_KEY,
    litellmMasterKey: e.LITELLM_MASTER_KEY,
    port: e.PORT ?? 4000,
    configFile: e.CONFIG_FILE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS ?? 25_000,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS ?? 0,
    logLevel: e.LOG_LEVEL ?? "info",
  };
}

function asUrl(value: string, variable: string): URL {
  try {
    return parseDatabaseUrl(value, variable);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new ConfigError(error.message);
    throw error;
  }
}

// The chart's `db.useExisting` mode passes the URL in parts, so the password
// can come from a Secret key of its own.
function writerUrl(e: z.infer<typeof EnvSchema>, iam: boolean): URL {
  if (e.DATABASE_URL) {
    if (e.DATABASE_PARAMS) {
      throw new ConfigError("DATABASE_PARAMS applies only to a writer built from DATABASE_HOST; put the parameters in DATABASE_URL");
    }
    return asUrl(e.DATABASE_URL, "DATABASE_URL");
  }
  if (!e.DATABASE_HOST) {
    throw new ConfigError("DATABASE_URL must be set (or DATABASE_HOST with DATABASE_USERNAME and DATABASE_NAME)");
  }
  if (!e.DATABASE_USERNAME) throw new ConfigError("DATABASE_USERNAME must be set when DATABASE_HOST is used");
  if (!e.DATABASE_NAME) throw new ConfigError("DATABASE_NAME must be set when DATABASE_HOST is used");
  if (!iam && !e.DATABASE_PASSWORD) {
    throw new ConfigError("DATABASE_PASSWORD must be set when DATABASE_HOST is used without IAM_TOKEN_DB_AUTH");
  }
  const url = buildDatabaseUrl({
    host: e.DATABASE_HOST,
    port: e.DATABASE_PORT ?? 5432,
    user: e.DATABASE_USERNAME,
    password: e.DATABASE_PASSWORD ?? "",
    database: e.DATABASE_NAME,
  });
  const built = asUrl(url, "DATABASE_HOST");
  // URL parameters (sslmode, application_name …) for the writer built from
  // parts: the chart's db.params, e.g. "sslmode=verify-full".
  for (const [name, value] of new URLSearchParams(e.DATABASE_PARAMS ?? "")) {
    if (!/^[a-z_]+$/.test(name)) throw new ConfigError(`DATABASE_PARAMS has an invalid parameter name ${JSON.stringify(name)}`);
    built.searchParams.set(name, value);
  }
  return built;
}
