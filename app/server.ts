import { LocalSessionRevocations } from "./services/ui/session-revocations.js";
import { RedisSessionRevocations } from "./fleet/redis-session-revocations.js";
import { randomUUID } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import { hostname } from "node:os";
import type { Config } from "./config/env.js";
import { DEFAULT_HEALTH_CHECKS, type ProxyConfig } from "./config/model-config.js";
import { ModelRouter } from "./services/upstream/model-router.js";
import { CallerCache } from "./services/access/caller-cache.js";
import { EndUsers } from "./services/access/end-users.js";
import { UpstreamClient } from "./services/upstream/upstream-client.js";
import { DeploymentHealth } from "./services/upstream/deployment-health.js";
import { RateLimits, type LimitScope } from "./services/access/rate-limits.js";
import { LocalAdmissions, type Admissions } from "./services/access/admission.js";
import { RedisLink, type RedisStatus } from "./fleet/redis-link.js";
import { RedisAdmissions } from "./fleet/redis-admissions.js";
import { FleetAdmissions } from "./fleet/fleet-admissions.js";
import { FleetOutbox } from "./fleet/fleet-outbox.js";
import { FleetCooldowns } from "./fleet/redis-cooldowns.js";
import { ProxyBudget } from "./services/billing/proxy-budget.js";
import { RedisSpendLedger } from "./fleet/redis-spend-ledger.js";
import { RedisResponseCache } from "./fleet/redis-response-cache.js";
import { MemoryResponseCache } from "./services/upstream/response-cache.js";
import { LOCAL_ONLY, RedisInvalidationBus, type InvalidationBus } from "./fleet/invalidation-bus.js";
import { scheduleBudgetResets } from "./services/billing/budget-resets.js";
import { openDatabase, type Database } from "./db/database.js";
import { withFileSettings } from "./config/file-settings.js";
import type { ReaderMember } from "./db/reader-set.js";
import type { ReaderStatus } from "./db/reader-state.js";
import { onSecretFileUnreadable } from "./config/secret-file.js";
import type { Logger } from "./observability/logger.js";
import { createMetrics, setState, type Metrics } from "./observability/metrics.js";
import { registerSecret } from "./observability/secrets.js";
import { ConfigError } from "./config/env.js";
import { createApi, createMetricsApp } from "./http/app.js";
import { SpendQueue } from "./services/billing/spend-queue.js";
import { BudgetReservations } from "./services/billing/budget-reservations.js";
import { CostEstimates } from "./services/billing/cost-estimates.js";
import { writeSpendBatch, type SpendRecord } from "./services/billing/spend.js";
import { SpendPartitions } from "./services/billing/spend-partitions.js";
import { scheduleSpendRetention } from "./services/billing/spend-retention.js";
import { Lifecycle, type AppContext } from "./http/context.js";
import { MODEL_RELOAD_MS, serveStoredModels } from "./services/models/serve-stored-models.js";
import { MODELS_SCOPE } from "./services/models/stored-models.js";

export interface RunningServer {
  server: Server;
  port: number;
  /** The port of the separate `/metrics` listener (METRICS_PORT), if any. */
  metricsPort?: number;
  database: Database;
  metrics: Metrics;
  /** This pod's queued spend (written in batches). */
  spend: SpendQueue;
  /** Readiness 503, stop accepting, let requests and streams finish (up to the timeout), close pools. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** METRICS_PORT: serve `/metrics` on this port instead of the API port (the chart's `metrics.port`). */
export function metricsPortFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.METRICS_PORT?.trim();
  if (!raw) return undefined;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new ConfigError(`METRICS_PORT must be a port number between 1 and 65535 (got "${raw}")`);
  }
  return port;
}

function listen(listener: RequestListener, port: number): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer(listener);
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function portOf(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : fallback;
}

/** config → database endpoints → routing client → services → HTTP, wired once. */
export async function startServer(
  config: Config,
  proxy: Pick<ProxyConfig, "models" | "router" | "warnings" | "masterKey" | "redis" | "cache" | "proxyBudget" | "unpriced"> &
    Partial<
      Pick<
        ProxyConfig,
        "spendRetention" | "databasePoolLimit" | "spendFlushIntervalMs" | "unserved" | "healthChecks" | "passThrough" | "storeModelsInDb"
      >
    >,
  log: Logger,
  options: { metricsPort?: number } = { metricsPort: metricsPortFromEnv(process.env) },
): Promise<RunningServer> {
  config = withFileSettings(config, proxy);
  // MASTER_KEY, then the config file's general_settings.master_key, then LiteLLM's variable.
  // MASTER_KEY_FILE is read again when it changes (at most once a second), so a rotated key needs no restart.
  const fixedKey = proxy.masterKey ?? config.litellmMasterKey;
  const masterKey = config.masterKey ?? (fixedKey ? () => fixedKey : undefined);
  if (!masterKey) throw new Error("MASTER_KEY must be set to serve (or general_settings.master_key in CONFIG_FILE, or LITELLM_MASTER_KEY)");
  const currentMasterKey = () => {
    const key = masterKey();
    registerSecret(key);
    return key;
  };
  currentMasterKey();
  for (const warning of [...proxy.warnings, ...proxy.unpriced]) log.warn(warning);
  const metrics = createMetrics();
  for (const deployment of [...proxy.models.values()].flat())
    if (deployment.price.source === "unknown")
      metrics.unpricedDeployments.set({ model_group: deployment.name, deployment: deployment.id }, 1);
  for (const entry of proxy.unserved ?? [])
    metrics.unservedDeployments.set({ model_group: entry.name, deployment: entry.id, provider: entry.provider }, 1);
  const overallReaderGauges = (status: ReaderStatus) => {
    metrics.readerDegraded.set(status === "degraded" ? 1 : 0);
    metrics.readerLagging.set(status === "lagging" ? 1 : 0);
  };
  const memberGauges = (member: ReaderMember) =>
    setState(metrics.readerState, ["connected", "lagging", "degraded"], member.state.status, { reader: member.name });
  const writerGauges = () => setState(metrics.writerState, ["connected", "read-only", "disconnected"], database.writerStatus());
  const stopWatchingFiles = onSecretFileUnreadable((variable, error) => {
    metrics.secretFileUnreadable.inc({ variable });
    log.error({ variable }, `${error.message}; keeping the last good value`);
  });
  const callers = new CallerCache(config.keyCacheTtlMs);
  // Reads through the database opened below (its first read comes with a request).
  const endUsers = new EndUsers(() => database.db, config.keyCacheTtlMs);
  // The fleet's Redis (REDIS_URL / REDIS_HOST, or router_settings.redis_*): shared limits and invalidations.
  const redisSettings = config.redis ?? proxy.redis;
  const redisGauges = (status: RedisStatus) => setState(metrics.redisState, ["connected", "degraded", "disabled"], status);
  const redis = redisSettings
    ? new RedisLink(redisSettings, {
        log,
        commandTimeoutMs: config.redisCommandTimeoutMs,
        onStatus: redisGauges,
        onFailure: (what) => metrics.redisFailures.inc({ what }),
      })
    : undefined;
  await redis?.start();
  redisGauges(redis?.status ?? "disabled");
  let bus: InvalidationBus = LOCAL_ONLY;
  let storedModels: AppContext["storedModels"] = undefined;
  const database = await openDatabase(config, log, {
    // The write's response waits for Redis to hand the news to the other pods, so a client that
    // creates a key on one pod and uses it on another at once is known there (a reader miss of a
    // key written moments ago on another pod would otherwise be taken as final).
    onWrite: (scopes, lsn) => {
      callers.invalidate(scopes);
      endUsers.invalidate(scopes);
      return bus.publish({ scopes, lsn });
    },
    onQuery: (endpoint) => metrics.dbQueries.inc({ endpoint }),
    onFallback: (reason) => metrics.readFallbacks.inc({ reason }),
    onReaderStatus: (member, overall) => {
      memberGauges(member);
      overallReaderGauges(overall);
    },
    onReaderMembership: (member, change, overall) => {
      overallReaderGauges(overall);
      const info = { reader: member.name, address: member.address, found_by: member.foundBy };
      if (change === "joined") {
        memberGauges(member);
        metrics.readerInstance.set(info, 1);
        metrics.readerReads.inc({ reader: member.name }, 0);
        return;
      }
      metrics.readerInstance.remove(info);
      metrics.readerMemberLag.remove({ reader: member.name });
      for (const state of ["connected", "lagging", "degraded"]) metrics.readerState.remove({ reader: member.name, state });
      // Pods come and go under new IPs: a departed instance's counters go too, or the series would only grow.
      metrics.readerReads.remove({ reader: member.name });
      void metrics.readerFallbacks.get().then(({ values }) => {
        for (const { labels } of values) if (labels.reader === member.name) metrics.readerFallbacks.remove(labels);
      });
    },
    onReplayCheck: (_member, result) => metrics.replayChecks.inc({ result }),
    onReaderRead: (member) => metrics.readerReads.inc({ reader: member.name }),
    onReaderFallback: (member, reason) => metrics.readerFallbacks.inc({ reader: member.name, reason }),
    onAuthRetry: (role) => metrics.authRetries.inc({ endpoint: role }),
    onHealthCycle: ({ readerLagMs, readers }) => {
      if (readerLagMs === undefined) metrics.readerLag.reset();
      else metrics.readerLag.set(readerLagMs / 1000);
      for (const member of readers) {
        if (member.lagMs === undefined) metrics.readerMemberLag.remove({ reader: member.name });
        else metrics.readerMemberLag.set({ reader: member.name }, member.lagMs / 1000);
      }
      writerGauges();
    },
  });
  if (redis) {
    bus = new RedisInvalidationBus(
      redis,
      ({ scopes, lsn }) => {
        database.consistency.heard(scopes, lsn);
        callers.invalidate(scopes);
        endUsers.invalidate(scopes);
        if (scopes.includes(MODELS_SCOPE)) void storedModels?.sync.refresh();
      },
      log,
    );
  }
  overallReaderGauges(database.reader.status);
  for (const member of database.reader.members) {
    memberGauges(member);
  }
  writerGauges();
  metrics.dbQueries.inc({ endpoint: "writer" }, 0);
  if (config.readers.length > 0) metrics.dbQueries.inc({ endpoint: "reader" }, 0);

  const lifecycle = new Lifecycle();
  const partitions = new SpendPartitions(() => database.db.$primary());
  const writeSpend = (batch: readonly SpendRecord[]) => writeSpendBatch(database.db, batch, partitions);
  // Written spend stays counted while a cached key read before it may be in use.
  const retainMs = callers.ttlMs + 5000;
  // With a Redis, acknowledged spend is held there too until written: a pod's death loses none of it.
  const outbox = redis && new FleetOutbox(redis, `${hostname()}-${randomUUID().slice(0, 8)}`);
  const ledger = outbox
    ? new RedisSpendLedger(redis!, {
        outbox,
        write: writeSpend,
        log,
        retainMs,
        onRecovered: (count) => metrics.spendRecovered.inc(count),
        onLivePods: (count) => metrics.fleetPods.set(count),
      })
    : undefined;
  const spend = new SpendQueue(writeSpend, {
    intervalMs: config.spendFlushIntervalMs,
    maxBatch: 1000,
    maxQueued: 200_000,
    log,
    onDrop: () => metrics.spendDropped.inc(),
    onFlushFailure: () => metrics.spendRecordFailures.inc(),
    replayed: config.readers.length > 0 ? () => database.health.readerPosition : undefined,
    retainMs,
    mirror: ledger,
  });
  metrics.watchSpendQueue(spend);
  spend.start();
  ledger?.start();
  const stopBudgetResets = scheduleBudgetResets(database.db, log, 10_000);
  // Spend rows older than the retention period go a day's partition at a time, by one pod at a time.
  const stopSpendRetention = scheduleSpendRetention(
    () => database.db.$primary(),
    partitions,
    {
      periodDays: config.spendRetention.periodDays ?? proxy.spendRetention?.periodDays,
      intervalMs: config.spendRetention.intervalMs ?? proxy.spendRetention?.intervalMs ?? 3_600_000,
    },
    log,
  );
  // Router cooldowns for the fleet when there is a Redis (LiteLLM's way), else this pod's own.
  const cooldowns = redis ? new FleetCooldowns(redis, proxy.router, log) : undefined;
  const upstream = new UpstreamClient();
  const deploymentHealth = new DeploymentHealth(
    upstream,
    proxy.healthChecks ?? DEFAULT_HEALTH_CHECKS,
    (e) => metrics.deploymentHealthy.set({ model_group: e.deployment.name, deployment: e.deployment.id }, e.healthy ? 1 : 0),
    log,
  );
  // Budget reservations for the fleet when there is a Redis, else this pod's own.
  const costEstimates = new CostEstimates();
  const onRefuse = (scope: LimitScope["kind"]) => metrics.rateLimited.inc({ scope });
  const local = new LocalAdmissions(new RateLimits(onRefuse), new BudgetReservations(costEstimates));
  // Limits and budgets for the fleet when there is a Redis (each pod's share while it does not answer), else this pod's own.
  const admissions: Admissions =
    redis && outbox && ledger
      ? new FleetAdmissions(new RedisAdmissions(redis, outbox, costEstimates, onRefuse), local, redis, () => ledger.livePods)
      : local;
  const proxyBudget = new ProxyBudget(database.db, proxy.proxyBudget, (scope, snapshot) => spend.unwrittenParts(scope, snapshot));
  // A writer that is away at start delays the row, never the start: retried until it is made.
  const stopProxyBudget = proxyBudget.keepEnsuring(log, 10_000);
  const ctx = {
    database,
    router: new ModelRouter(proxy, { cooldowns }),
    callers,
    upstream,
    deploymentHealth,
    passThrough: proxy.passThrough ?? [],
    admissions,
    redis,
    get masterKey() {
      return currentMasterKey();
    },
    log,
    metrics,
    lifecycle,
    spend,
    costEstimates,
    proxyBudget,
    endUsers,
    selfBase: undefined as string | undefined,
    storedModels: undefined as AppContext["storedModels"],
    // The admin UI: its sign-in and the fleet's sign-outs (Redis when there is one).
    ui: { ...config.ui, revocations: redis ? new RedisSessionRevocations(redis) : new LocalSessionRevocations() },
    // LiteLLM's exact-match response cache: the fleet's when there is a Redis, else each pod's memory.
    responseCache: proxy.cache && {
      cache: redis ? new RedisResponseCache(redis, new MemoryResponseCache()) : new MemoryResponseCache(),
      settings: proxy.cache,
    },
  };
  // Models kept in the database join the router's before the first request, and follow every change.
  storedModels = proxy.storeModelsInDb
    ? serveStoredModels(
        { db: database.db, router: ctx.router, metrics, log },
        { saltKey: config.saltKey, masterKey: currentMasterKey() },
        proxy.router.timeoutMs,
      )
    : undefined;
  ctx.storedModels = storedModels;
  await storedModels?.sync.refresh();
  const stopModelSync = storedModels?.sync.every(MODEL_RELOAD_MS);
  const separateMetrics = options.metricsPort !== undefined;
  const server = await listen(createApi(ctx, { separateMetrics }), config.port);
  const metricsServer = separateMetrics ? await listen(createMetricsApp(ctx), options.metricsPort!) : undefined;
  // Streams can be long; the upstream's own timeout bounds them instead.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const port = portOf(server, config.port);
  ctx.selfBase = `http://127.0.0.1:${port}`;
  const metricsPort = metricsServer ? portOf(metricsServer, options.metricsPort!) : undefined;
  log.info({ port, metricsPort, models: ctx.router.modelNames(), reader: database.reader.status }, `tandem listening on :${port}`);
  const stopHealthChecks = deploymentHealth.start(() => ctx.router.allDeployments());

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = 25_000) =>
    (stopping ??= (async () => {
      lifecycle.draining = true;
      const deadline = Date.now() + timeoutMs;
      log.info({ timeoutMs, delayMs: config.shutdownDelayMs }, "shutting down: readiness 503, draining in-flight requests");
      if (config.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A keep-alive connection whose last response (say, a long stream)
      // finishes during the drain goes idle without anyone closing it.
      const sweeper = setInterval(() => server.closeIdleConnections(), 100);
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        log.warn("drain timeout reached; closing remaining connections");
        server.closeAllConnections();
      }, timeoutMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      clearInterval(sweeper);
      // Work after responses (spend) and the pools get what is left of the
      // timeout (at least a second each): a hung database never holds the exit.
      const remaining = () => Math.max(1000, deadline - Date.now());
      await Promise.race([lifecycle.settle(), new Promise((r) => setTimeout(r, remaining()).unref())]);
      stopBudgetResets();
      stopHealthChecks();
      stopModelSync?.();
      stopSpendRetention();
      stopProxyBudget();
      await spend.drain(remaining());
      await ledger?.close();
      await upstream.close();
      // Scrapes continue through the drain; the metrics listener goes last.
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      }
      await database.close(remaining());
      await bus.close();
      cooldowns?.close();
      await redis?.close();
      stopWatchingFiles();
      log.info("shutdown complete");
    })());

  return { server, port, metricsPort, database, metrics, spend, shutdown };
}
