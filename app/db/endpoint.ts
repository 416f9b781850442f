import { performance } from "node:perf_hooks";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";
import type { EndpointConfig } from "../config/env.js";
import type { Logger } from "../observability/logger.js";
import { registerSecret } from "../observability/secrets.js";
import { IamTokenProvider, rdsSigner, type TokenSigner } from "./iam-token.js";
import { isAuthFailure, isReadOnlyRefusal, isRefusedOrCut } from "./connection-errors.js";
import { withDeadline } from "./deadline.js";
import { describeUrl, urlParts } from "./url.js";
import { verifyInstance, WrongInstanceError } from "./instance-identity.js";

export type Role = EndpointConfig["role"];

export interface EndpointOptions {
  poolLimit: number;
  log: Logger;
  /** Called for every statement sent on this endpoint (metrics; routing proof). */
  onQuery?: (role: Role, name: string) => void;
  /** Overrides the AWS signer (unit tests). */
  signer?: TokenSigner;
  /** Bound on opening a connection, and on waiting for a free one in the pool. */
  connectTimeoutMs?: number;
  /** Client-side bound on one statement; a connection whose statement timed out is destroyed, never reused. */
  queryTimeoutMs?: number;
  /** A pooled connection is closed after about this long (±20 %, so a pool never renews all at once). */
  maxLifetimeMs?: number;
  /** A statement was refused with SQLSTATE 25006: this endpoint's connection reached a server in recovery. */
  onReadOnly?: () => void;
  /** A new connection was refused its credentials (28P01); they are read again and the connection tried once more. */
  onAuthRetry?: (role: Role, name: string) => void;
  /**
   * One instance behind a shared address: every new connection is asked which
   * server it reached and kept only if it is this one (tried again, up to
   * `attempts()` times, when the address sent it elsewhere).
   */
  pin?: InstancePin;
  /** How logs and metrics name it, when not the address's host:port (an instance behind the address). */
  name?: string;
  /** IAM tokens shared with the other instances behind the same address (not stopped by `close`). */
  tokens?: IamTokenProvider;
}

/** An endpoint's connections must reach this one instance behind its address. */
export interface InstancePin {
  instance: string;
  /** How many connections to open, at most, to reach it. */
  attempts(): number;
  /** Other instances are known behind the address: a failed connection may have been sent to one of them. */
  shared(): boolean;
}

/** One database endpoint: its pg pool, the Prisma client on top, and its IAM token source. */
export interface Endpoint {
  role: Role;
  /** host:port — safe to log and to use as a metric label. */
  name: string;
  /** Safe to log: password masked. */
  description: string;
  /** The current Prisma client; replaced by `recycle()`, so read it at each use. */
  readonly client: PrismaClient;
  readonly pool: pg.Pool;
  tokens?: IamTokenProvider;
  /** Opens a fresh connection (not from the pool) and runs `sql`: the health cycle's probe. */
  probe<R extends pg.QueryResultRow>(timeoutMs: number, sql?: string): Promise<R | undefined>;
  /** Every pool slot is taken and as many callers again are queued: a new read would only wait. */
  saturated(): boolean;
  /**
   * A fresh pool and client; the old pool's connections are destroyed without
   * waiting for them. Used when a reader stalls or recovers and when the
   * writer turns out to be a standby, so a connection that hung on a stalled
   * server, or that reached the old primary, is never handed out again. New
   * connections resolve the host name again (DNS failover).
   */
  recycle(): void;
  /** Closes within `timeoutMs` whatever the server does (a hung server's sockets are destroyed). */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * pg connection settings for an endpoint as its URL is now (a mounted Secret
 * file is read again each time). Shared by the pool, the probe and the
 * migrator so all three authenticate the same way. `application_name` names
 * the role so the database side can tell writer and reader traffic apart.
 */
export function connectionConfig(config: EndpointConfig, tokens?: IamTokenProvider): pg.ClientConfig {
  const url = config.current();
  const parts = urlParts(url);
  registerSecret(parts.password);
  const sslmode = url.searchParams.get("sslmode");
  const base: pg.ClientConfig = {
    host: parts.host,
    port: parts.port,
    user: parts.user,
    database: parts.database,
    application_name: url.searchParams.get("application_name") ?? `tandem-${config.role}`,
    ssl: withServername(sslFor(sslmode, tokens !== undefined), config.tlsServername),
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

function withServername(ssl: pg.ClientConfig["ssl"], servername: string | undefined): pg.ClientConfig["ssl"] {
  return typeof ssl === "object" && servername ? { ...ssl, servername } : ssl;
}

export function iamTokensFor(config: EndpointConfig, log: Logger, signer?: TokenSigner): IamTokenProvider | undefined {
  if (!config.iamRegion) return undefined;
  const parts = urlParts(config.url);
  return new IamTokenProvider({
    label: config.role === "writer" ? "writer" : `reader ${config.name}`,
    log,
    signer: signer ?? rdsSigner({ host: parts.host, port: parts.port, user: parts.user, region: config.iamRegion }),
  });
}

export function createEndpoint(config: EndpointConfig, options: EndpointOptions): Endpoint {
  const { log, onQuery } = options;
  const tokens = options.tokens ?? iamTokensFor(config, log, options.signer);
  const ownsTokens = options.tokens === undefined;
  const name = options.name ?? config.name;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 30_000;
  const lifetimeS = (options.maxLifetimeMs ?? 300_000) / 1000;
  const fields = { endpoint: config.role, name };

  const newPool = () => {
    const pool = new EndpointPool(
      {
        max: options.poolLimit,
        connectionTimeoutMillis: connectTimeoutMs,
        idleTimeoutMillis: 30_000,
        // A server that vanished without a FIN (failover, blackhole) is found
        // by keepalive instead of by the kernel's 15-minute retransmit limit.
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        query_timeout: queryTimeoutMs,
      },
      () => connectionConfig(config, tokens),
      () => {
        log.warn(fields, `${config.role} DB ${name} refused the credentials; reading them again and retrying once`);
        options.onAuthRetry?.(config.role, name);
      },
      options.pin && { ...options.pin, fallback: config.name },
    );
    // pg-pool reads the lifetime for each new connection; a jittered value
    // keeps a pool from renewing every connection in the same second, and a
    // bounded one lets a DNS name over several instances (Aurora's reader
    // endpoint) spread connections onto an instance added under load.
    Object.defineProperty(pool.options, "maxLifetimeSeconds", { get: () => lifetimeS * (0.8 + 0.4 * Math.random()) });
    // An idle client whose server went away emits 'error' on the pool; without
    // a listener that would crash the process. The failed client is discarded.
    pool.on("error", (error) => log.warn({ ...fields, err: error }, `idle ${config.role} connection failed`));
    pool.on("connect", (client) => guardConnection(client, onQuery ? () => onQuery(config.role, name) : undefined, options.onReadOnly));
    return { pool, client: new PrismaClient({ adapter: new PrismaPg(pool) }) };
  };
  let current = newPool();
  let closed = false;

  const endPool = async (old: { pool: pg.Pool; client: PrismaClient }, timeoutMs: number) => {
    const ended = Promise.all([old.client.$disconnect().catch(() => undefined), old.pool.end().catch(() => undefined)]);
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([ended, timer]);
    destroyAll(old.pool);
  };

  return {
    role: config.role,
    name,
    description: describeUrl(config.url),
    get client() {
      return current.client;
    },
    get pool() {
      return current.pool;
    },
    tokens,
    async probe<R extends pg.QueryResultRow>(timeoutMs: number, sql = "SELECT 1"): Promise<R | undefined> {
      try {
        return await probeFresh<R>({ ...connectionConfig(config, tokens), connectionTimeoutMillis: timeoutMs }, timeoutMs, sql);
      } catch (error) {
        // Credentials refused for a new connection while a rotation propagates
        // (Postgres changed, the mounted Secret not yet): the server is up, and
        // the pool's open connections still work — ask through one of them
        // rather than declare the endpoint down and take the pod out of service.
        if (!isAuthFailure(error)) throw error;
        // Only an open, idle connection will do: a new one would be refused the same way.
        if (current.pool.idleCount === 0) throw new ProbeSkipped("credentials refused for a new connection and no open one is idle");
        return await withDeadline(
          current.pool.query<R>({ text: sql, query_timeout: timeoutMs } as pg.QueryConfig).then((r) => r.rows[0]),
          timeoutMs,
          () => error as Error,
        );
      }
    },
    saturated() {
      const pool = current.pool;
      return pool.totalCount >= options.poolLimit && pool.idleCount === 0 && pool.waitingCount >= options.poolLimit;
    },
    recycle() {
      // A health cycle still running at shutdown must not open new pools on a closed endpoint.
      if (closed) return;
      const old = current;
      current = newPool();
      void endPool(old, 0);
    },
    async close(timeoutMs = 5000) {
      closed = true;
      if (ownsTokens) tokens?.stop();
      await endPool(current, timeoutMs);
    },
  };
}

/**
 * The probe could not tell (credentials refused for a new connection while a
 * rotation propagates, and no open connection idle to ask through): the
 * health cycle keeps the endpoint's last known state rather than guess.
 */
export class ProbeSkipped extends Error {
  override name = "ProbeSkipped";
}

/** Opens a connection of its own (not from the pool), runs `sql`, and closes it whatever the server does. */
async function probeFresh<R extends pg.QueryResultRow>(settings: pg.ClientConfig, timeoutMs: number, sql: string): Promise<R | undefined> {
  return (await probeTimed<R>(settings, timeoutMs, sql)).row;
}

/** `probeFresh`, also timing the statement's round trip alone (not the connection's set-up): the network distance to the server. */
export async function probeTimed<R extends pg.QueryResultRow>(
  settings: pg.ClientConfig,
  timeoutMs: number,
  sql: string,
): Promise<{ row: R | undefined; roundTripMs: number }> {
  const probeClient = new pg.Client(settings);
  probeClient.on("error", () => undefined);
  const deadline = setTimeout(() => destroyClient(probeClient), timeoutMs);
  try {
    await probeClient.connect();
    const sent = performance.now();
    const result = (await probeClient.query({ text: sql, query_timeout: timeoutMs } as pg.QueryConfig)) as pg.QueryResult<R>;
    return { row: result.rows[0], roundTripMs: performance.now() - sent };
  } finally {
    clearTimeout(deadline);
    // A clean goodbye when the server answers; no waiting when it doesn't.
    await Promise.race([probeClient.end().catch(() => undefined), new Promise((r) => setTimeout(r, 200).unref())]);
    destroyClient(probeClient);
  }
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * A pg pool whose new connections take their settings from the endpoint as
 * it is now (host, user and password from a rotated Secret file, a fresh IAM
 * token), and that answers an authentication failure (28P01) by reading the
 * credentials once more and trying again once: a password rotated while the
 * pool runs costs no request. Connections already open keep working.
 */
class EndpointPool extends pg.Pool {
  constructor(
    settings: pg.PoolConfig,
    connection: () => pg.ClientConfig,
    private readonly onAuthRetry: () => void,
    private readonly pin?: InstancePin & { fallback: string },
  ) {
    super({
      ...settings,
      // pg-pool creates `new Client(options)` for every connection: this is the one place to read fresh settings.
      Client: class extends pg.Client {
        constructor(options?: pg.ClientConfig) {
          super({ ...options, ...connection() });
        }

        // pg-pool hands out a client once its connect() succeeds: a pinned one first proves which server it reached.
        override connect(): Promise<pg.Client>;
        override connect(callback: (err: Error) => void): void;
        override connect(callback?: (err: Error) => void): Promise<pg.Client> | void {
          const connected = super.connect().then(async () => {
            if (pin) {
              // pg-pool listens for errors only once connect() has answered: until then a socket cut
              // during the identity query (pg-pool's connect timeout, a reset) must not be unhandled.
              const quiet = () => undefined;
              this.on("error", quiet);
              try {
                await verifyInstance(this, pin.instance, pin.fallback);
              } catch (error) {
                // Closed before pg-pool hears of the failure: a connection cut after that would be
                // reported as an idle connection failing.
                await Promise.race([this.end().catch(() => undefined), new Promise((r) => setTimeout(r, 200).unref())]);
                destroyClient(this);
                throw error;
              } finally {
                this.off("error", quiet);
              }
            }
            return this;
          });
          if (!callback) return connected;
          connected.then(
            () => callback(undefined as unknown as Error),
            (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
          );
        }
      },
    });
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const reached = async (): Promise<pg.PoolClient> => {
      // Through an address in front of several instances, a new connection reaches the wanted
      // one within a few tries (a balancer takes each in turn, or at random).
      const attempts = Math.max(1, this.pin?.attempts() ?? 1);
      for (let i = 1; ; i++) {
        try {
          return await super.connect();
        } catch (error) {
          // Behind a shared address, a refused or cut connection may be another instance's doing
          // (one stopped, still listed by the Service): the next try may reach this one.
          // Not a pool timeout: that means no free slot, which another try would only wait for again.
          const retry = error instanceof WrongInstanceError || (this.pin?.shared() === true && isRefusedOrCut(error));
          if (!retry || i >= attempts) throw error;
        }
      }
    };
    const connected = reached().catch((error: unknown) => {
      if (!isAuthFailure(error)) throw error;
      this.onAuthRetry();
      return reached();
    });
    if (!callback) return connected;
    connected.then(
      (client) => callback(undefined, client, (release) => client.release(release as Error | boolean | undefined)),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), undefined, () => undefined),
    );
  }
}

// A connection whose statement timed out is destroyed: the server may answer
// it later (or never), and pg would queue the next statement behind it.
// Counting happens here too: the connection is the only place that sees
// every statement, whichever Prisma API (model method, raw, transaction)
// produced it.
function guardConnection(client: pg.PoolClient, count?: () => void, onReadOnly?: () => void): void {
  client.on("error", () => undefined); // surfaced to the query in flight; the pool drops the client
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    count?.();
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === "Query read timeout") destroyClient(client);
        if (onReadOnly && isReadOnlyRefusal(error)) onReadOnly();
      });
    }
    return result;
  };
}

function destroyClient(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

function destroyAll(pool: pg.Pool): void {
  const clients = (pool as unknown as { _clients?: pg.Client[] })._clients ?? [];
  for (const client of clients) destroyClient(client);
}
