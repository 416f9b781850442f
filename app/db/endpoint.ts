import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";
import type { EndpointConfig } from "../config/env.js";
import type { Logger } from "../observability/logger.js";
import { registerSecret } from "../observability/secrets.js";
import { IamTokenProvider, rdsSigner, type TokenSigner } from "./iam-token.js";
import { describeUrl, urlParts } from "./url.js";

export type Role = EndpointConfig["role"];

export interface EndpointOptions {
  poolLimit: number;
  log: Logger;
  /** Called for every statement sent on this endpoint (metrics; routing proof). */
  onQuery?: (role: Role) => void;
  /** Overrides the AWS signer (unit tests). */
  signer?: TokenSigner;
  connectTimeoutMs?: number;
}

/** One database endpoint: its pg pool, the Prisma client on top, and its IAM token source. */
export interface Endpoint {
  role: Role;
  /** Safe to log: password masked. */
  description: string;
  client: PrismaClient;
  pool: pg.Pool;
  tokens?: IamTokenProvider;
  /** Opens a fresh connection and runs `SELECT 1`: the reconnect cycle's probe. */
  probe(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * pg connection settings for an endpoint. Shared by the pool, the probe and
 * the migrator so all three authenticate the same way. `application_name`
 * names the role so the database side can tell writer and reader traffic apart.
 */
export function connectionConfig(config: EndpointConfig, tokens?: IamTokenProvider): pg.ClientConfig {
  const parts = urlParts(config.url);
  registerSecret(parts.password);
  const sslmode = config.url.searchParams.get("sslmode");
  const base: pg.ClientConfig = {
    host: parts.host,
    port: parts.port,
    user: parts.user,
    database: parts.database,
    application_name: config.url.searchParams.get("application_name") ?? `tandem-${config.role}`,
    ssl: sslFor(sslmode, tokens !== undefined),
  };
  // pg calls the password function for each new connection: the current token.
  return tokens ? { ...base, password: () => tokens.current() } : { ...base, password: parts.password };
}

// RDS IAM authentication only works over TLS, so IAM implies TLS unless the
// URL explicitly disables it (tests against a local server do).
function sslFor(sslmode: string | null, iam: boolean): pg.ClientConfig["ssl"] {
  switch (sslmode) {
    case "disable":
      return false;
    case "no-verify":
    case "prefer":
    case "require":
      return { rejectUnauthorized: false };
    case "verify-ca":
    case "verify-full":
      return { rejectUnauthorized: true };
    default:
      return iam ? { rejectUnauthorized: true } : false;
  }
}

export function iamTokensFor(config: EndpointConfig, log: Logger, signer?: TokenSigner): IamTokenProvider | undefined {
  if (!config.iamRegion) return undefined;
  const parts = urlParts(config.url);
  return new IamTokenProvider({
    label: config.role,
    log,
    signer: signer ?? rdsSigner({ host: parts.host, port: parts.port, user: parts.user, region: config.iamRegion }),
  });
}

export function createEndpoint(config: EndpointConfig, options: EndpointOptions): Endpoint {
  const { log, onQuery } = options;
  const tokens = iamTokensFor(config, log, options.signer);
  const connection = connectionConfig(config, tokens);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    ...connection,
    max: options.poolLimit,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // An idle client whose server went away emits 'error' on the pool; without
  // a listener that would crash the process. The failed client is discarded.
  pool.on("error", (error) => log.warn({ endpoint: config.role, err: error }, `idle ${config.role} connection failed`));
  if (onQuery) pool.on("connect", (client) => countQueries(client, () => onQuery(config.role)));

  const client = new PrismaClient({ adapter: new PrismaPg(pool) });

  return {
    role: config.role,
    description: describeUrl(config.url),
    client,
    pool,
    tokens,
    async probe(timeoutMs) {
      const probeClient = new pg.Client({ ...connection, connectionTimeoutMillis: timeoutMs });
      probeClient.on("error", () => undefined);
      try {
        await probeClient.connect();
        await probeClient.query({ text: "SELECT 1", query_timeout: timeoutMs } as pg.QueryConfig);
      } finally {
        await probeClient.end().catch(() => undefined);
      }
    },
    async close() {
      tokens?.stop();
      await client.$disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

// Counting at the connection is the only place that sees every statement,
// whichever Prisma API (model method, raw, transaction) produced it.
function countQueries(client: pg.PoolClient, count: () => void): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    count();
    return query(...args);
  };
}
