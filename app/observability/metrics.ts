import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Every metric tandem exports. One registry per app instance, so tests can run several. */
/** What the spend-queue gauges read at scrape time. */
export interface SpendQueueView {
  length: number;
  oldestAgeMs(): number;
}

/** A state as a gauge per state (kube-state-metrics' way): 1 for `current`, 0 for the others. */
export function setState<S extends string, L extends string>(
  gauge: Gauge<L | "state">,
  states: readonly S[],
  current: string,
  labels: Partial<Record<L, string>> = {},
): void {
  for (const state of states) gauge.set({ ...labels, state } as Partial<Record<L | "state", string>>, state === current ? 1 : 0);
}

export function createMetrics() {
  const registry = new Registry();
  let spendQueue: SpendQueueView | undefined;
  collectDefaultMetrics({ register: registry, prefix: "tandem_" });
  return {
    registry,
    dbQueries: new Counter({
      name: "tandem_db_queries_total",
      help: "SQL statements sent, by database endpoint",
      labelNames: ["endpoint"] as const,
      registers: [registry],
    }),
    readerDegraded: new Gauge({
      name: "tandem_db_reader_degraded",
      help: "1 while reads fall back to the writer because the read replica is unreachable, hung or failing",
      registers: [registry],
    }),
    readerLag: new Gauge({
      name: "tandem_db_reader_lag_seconds",
      help: "How far the read replica is behind the writer, as last measured by the health cycle (absent while unreachable)",
      registers: [registry],
    }),
    readerLagging: new Gauge({
      name: "tandem_db_reader_lagging",
      help: "1 while reads go to the writer because the read replica is further behind than DATABASE_READ_REPLICA_MAX_LAG_MS",
      registers: [registry],
    }),
    readerState: new Gauge({
      name: "tandem_db_reader_state",
      help: "1 for each read replica's current state (connected, lagging, degraded), by reader host:port",
      labelNames: ["reader", "state"] as const,
      registers: [registry],
    }),
    readerMemberLag: new Gauge({
      name: "tandem_db_reader_member_lag_seconds",
      help: "How far each read replica is behind the writer, by reader host:port (absent while it is unreachable)",
      labelNames: ["reader"] as const,
      registers: [registry],
    }),
    readerInstance: new Gauge({
      name: "tandem_db_reader_instance_info",
      help: "1 for each read replica instance in the reader set: the instance (host:port as the server sees it, or Aurora's instance id), the configured address it is reached through, and how it was found",
      labelNames: ["reader", "address", "found_by"] as const,
      registers: [registry],
    }),
    replayChecks: new Counter({
      name: "tandem_db_replay_checks_total",
      help: "Instances asked whether they have replayed what a read needs (read-your-writes on demand), by result: replayed (the read ran there), behind or unanswered (the writer answered it)",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    readerReads: new Counter({
      name: "tandem_db_reader_reads_total",
      help: "Reads answered by each read replica, by reader host:port",
      labelNames: ["reader"] as const,
      registers: [registry],
    }),
    readerFallbacks: new Counter({
      name: "tandem_db_reader_fallbacks_total",
      help: "Reads a read replica was picked for and did not answer (timeout, connection error, refused credentials …), answered by the writer; by reader host:port and reason",
      labelNames: ["reader", "reason"] as const,
      registers: [registry],
    }),
    writerState: new Gauge({
      name: "tandem_db_writer_state",
      help: "1 for the writer's current state: connected, read-only (the writer address reached a standby: failover) or disconnected",
      labelNames: ["state"] as const,
      registers: [registry],
    }),
    authRetries: new Counter({
      name: "tandem_db_auth_retries_total",
      help: "New connections whose credentials were refused (28P01) and read again for one more try, by endpoint",
      labelNames: ["endpoint"] as const,
      registers: [registry],
    }),
    redisState: new Gauge({
      name: "tandem_redis_state",
      help: "1 for the state of the fleet's Redis: connected, degraded (this pod on its own limits and caches) or disabled",
      labelNames: ["state"] as const,
      registers: [registry],
    }),
    fleetPods: new Gauge({
      name: "tandem_fleet_pods",
      help: "Pods of the fleet alive at this pod's last heartbeat through Redis: while Redis does not answer, the pod enforces 1/this of each limit and budget",
      registers: [registry],
    }),
    redisFailures: new Counter({
      name: "tandem_redis_failures_total",
      help: "Redis commands that failed or passed their bound (the pod used its own state instead), by what they were for",
      labelNames: ["what"] as const,
      registers: [registry],
    }),
    unpricedDeployments: new Gauge({
      name: "tandem_model_unpriced",
      help: "1 for each deployment with no price from the config or the price database: its calls are charged 0",
      labelNames: ["model_group", "deployment"] as const,
      registers: [registry],
    }),
    unservedDeployments: new Gauge({
      name: "tandem_model_unserved",
      help: "1 for each config entry tandem cannot serve (a provider it does not have, a setting missing): calls to it answer a 400 saying why",
      labelNames: ["model_group", "deployment", "provider"] as const,
      registers: [registry],
    }),
    deploymentHealthy: new Gauge({
      name: "tandem_deployment_healthy",
      help: "1 if the deployment answered its last health call (GET /health, background_health_checks), 0 if it failed",
      labelNames: ["model_group", "deployment"] as const,
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: "tandem_cache_hits_total",
      help: "Requests answered from the response cache (litellm_settings.cache), by model group",
      labelNames: ["model_group"] as const,
      registers: [registry],
    }),
    spendRecovered: new Counter({
      name: "tandem_spend_recovered_total",
      help: "Spend entries a stopped pod held in Redis that this pod wrote to the database",
      registers: [registry],
    }),
    secretFileUnreadable: new Counter({
      name: "tandem_secret_file_unreadable_total",
      help: "Times a mounted credential file (*_FILE) could not be read or parsed; the last good value was kept",
      labelNames: ["variable"] as const,
      registers: [registry],
    }),
    readFallbacks: new Counter({
      name: "tandem_db_read_fallbacks_total",
      help: "Reads served by the writer instead of the reader, by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: "tandem_http_requests_total",
      help: "HTTP requests, by method, route and status code",
      labelNames: ["method", "route", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "tandem_http_request_duration_seconds",
      help: "HTTP request latency, by method, route and status code",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    upstreamAttempts: new Counter({
      name: "tandem_upstream_attempts_total",
      help: "Calls to upstream deployments, by model group, deployment id and outcome (ok, retried: a failure worth another try, failed: final)",
      labelNames: ["model_group", "deployment", "outcome"] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "tandem_rate_limited_total",
      help: "Requests refused with 429 by a key's, team's or user's rpm_limit, tpm_limit or max_parallel_requests",
      labelNames: ["scope"] as const,
      registers: [registry],
    }),
    spendRecordFailures: new Counter({
      name: "tandem_spend_record_failures_total",
      help: "Spend flushes that failed (the batch stays queued and is retried)",
      registers: [registry],
    }),
    spendDropped: new Counter({
      name: "tandem_spend_dropped_total",
      help: "Completions whose spend was lost because the spend queue was full",
      registers: [registry],
    }),
    spendQueueLength: new Gauge({
      name: "tandem_spend_queue_length",
      help: "Completions whose spend is recorded on this pod and not yet written",
      registers: [registry],
      collect() {
        this.set(spendQueue?.length ?? 0);
      },
    }),
    spendQueueOldest: new Gauge({
      name: "tandem_spend_queue_oldest_seconds",
      help: "Age of the oldest unwritten spend on this pod",
      registers: [registry],
      collect() {
        this.set((spendQueue?.oldestAgeMs() ?? 0) / 1000);
      },
    }),
    watchSpendQueue(view: SpendQueueView) {
      spendQueue = view;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
