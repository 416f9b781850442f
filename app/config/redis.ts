import { registerSecret } from "../observability/secrets.js";

/** Where the fleet's shared state lives (LiteLLM's Redis). Safe to log through `name` only. */
export interface RedisConfig {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** Database index from a redis:// URL path (default 0). */
  db: number;
  /** host:port — how logs and readiness name it. */
  name: string;
}

/** A bad Redis setting: the message names the variable (or config key) and never quotes a password. */
export class RedisConfigError extends Error {
  override name = "RedisConfigError";
}

export interface RedisParts {
  url?: string;
  host?: string;
  port?: string | number;
  username?: string;
  password?: string;
  ssl?: string | boolean;
}

/**
 * REDIS_URL (`redis://` or `rediss://`), or host/port/username/password/ssl
 * parts — the environment variables LiteLLM reads, or `router_settings.redis_*`
 * of its config file. `names` says what to call each part in an error.
 */
export function redisConfig(parts: RedisParts, names: Record<keyof RedisParts, string>): RedisConfig | undefined {
  if (parts.url) {
    if (parts.host) throw new RedisConfigError(`${names.url} and ${names.host} are both set; set one of them`);
    let url: URL;
    try {
      url = new URL(parts.url);
    } catch {
      throw new RedisConfigError(`${names.url} is not a valid URL`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:")
      throw new RedisConfigError(`${names.url} must be a redis:// or rediss:// URL (got ${url.protocol}//)`);
    if (!url.hostname) throw new RedisConfigError(`${names.url} has no host`);
    const db = url.pathname.replace(/^\//, "");
    if (db !== "" && !/^\d+$/.test(db)) throw new RedisConfigError(`${names.url} has a database "${db}" that is not a number`);
    const password = url.password ? decodeURIComponent(url.password) : undefined;
    registerSecret(password);
    const port = url.port ? Number(url.port) : 6379;
    return {
      host: url.hostname,
      port,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password,
      tls: url.protocol === "rediss:",
      db: db === "" ? 0 : Number(db),
      name: `${url.hostname}:${port}`,
    };
  }
  if (!parts.host) {
    for (const key of ["port", "password", "username"] as const)
      if (parts[key] !== undefined && parts[key] !== "") throw new RedisConfigError(`${names[key]} is set but ${names.host} is not`);
    return undefined;
  }
  const port = parts.port === undefined || parts.port === "" ? 6379 : Number(parts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RedisConfigError(`${names.port} must be a port number between 1 and 65535`);
  const ssl = parts.ssl === undefined || parts.ssl === "" ? false : parts.ssl;
  if (typeof ssl === "string" && !/^(true|false|1|0)$/i.test(ssl)) throw new RedisConfigError(`${names.ssl} must be true or false`);
  registerSecret(parts.password);
  return {
    host: parts.host,
    port,
    username: parts.username || undefined,
    password: parts.password || undefined,
    tls: ssl === true || (typeof ssl === "string" && /^(true|1)$/i.test(ssl)),
    db: 0,
    name: `${parts.host}:${port}`,
  };
}

export const REDIS_ENV_NAMES: Record<keyof RedisParts, string> = {
  url: "REDIS_URL",
  host: "REDIS_HOST",
  port: "REDIS_PORT",
  username: "REDIS_USERNAME",
  password: "REDIS_PASSWORD",
  ssl: "REDIS_SSL",
};
