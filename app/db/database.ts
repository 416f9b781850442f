import type { Config } from "../config/env.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../observability/logger.js";
import {
  callerScope,
  noteRequestWrite,
  NO_REPLICA_CONSISTENCY,
  readerMissIsFinal,
  requireAtLeast,
  requiredLsn,
  WritePositions,
  type Consistency,
} from "./consistency.js";
import { createEndpoint, type Endpoint, type EndpointOptions, type Role } from "./endpoint.js";
import { HealthMonitor, type WriterStatus } from "./health.js";
import type { TokenSigner } from "./iam-token.js";
import { LSN_MAX, parseLsn, type Lsn } from "./lsn.js";
import { readRouter, type FallbackReason } from "./read-router.js";
import { discoverySource } from "./discovery/sources.js";
import { ReaderTopology } from "./reader-topology.js";
import { ReplayCheck, type ReplayCheckResult } from "./replay-check.js";
import { ReaderSet, type ReaderMember } from "./reader-set.js";
import type { ReaderStatus } from "./reader-state.js";
import { withoutReplica, withReadReplica, type RoutedClient } from "./routing-client.js";

export type { WriterStatus };

export interface DatabaseHooks {
  /** Every statement sent, by endpoint role and name (host:port). */
  onQuery?: (role: Role, name: string) => void;
  onFallback?: (reason: FallbackReason) => void;
  /** A reader changed state; `overall` is the reader set's status after the change. */
  onReaderStatus?: (member: ReaderMember, overall: ReaderStatus) => void;
  /** A read answered by this reader. */
  onReaderRead?: (member: ReaderMember) => void;
  /** An instance joined the reader set (found behind an address) or left it. */
  onReaderMembership?: (member: ReaderMember, change: "joined" | "left", overall: ReaderStatus) => void;
  /** An instance was asked whether it has replayed what a read needs (read-your-writes on demand). */
  onReplayCheck?: (member: ReaderMember, result: ReplayCheckResult) => void;
  /** A read this reader was picked for and failed, answered by the writer instead. */
  onReaderFallback?: (member: ReaderMember, reason: FallbackReason) => void;
  /** A new connection's credentials were refused and read again (a rotation in progress). */
  onAuthRetry?: (role: Role, name: string) => void;
  /**
   * After every committed write a service reports (`$consistency.wrote`), with its scopes and the
   * writer's position after it: caches drop what changed, the fleet is told. Awaited before the
   * write's request answers, so the fleet hears of it first.
   */
  onWrite?: (scopes: readonly string[], lsn: Lsn | undefined) => void | Promise<void>;
  /** After every health cycle (metrics). */
  onHealthCycle?: (state: { readerLagMs: number | undefined; readers: readonly ReaderMember[] }) => void;
  /** Unit tests only: replaces the AWS signer of the writer, or of every reader. */
  signers?: Partial<Record<Role, TokenSigner>>;
}

/** What the rest of the app gets: the routed client and the state of both endpoints. */
export interface Database {
  db: RoutedClient;
  /** The read replicas: overall `status`, and each member's state, lag and load. */
  reader: ReaderSet;
  health: HealthMonitor;
  consistency: Consistency;
  writerStatus(): WriterStatus;
  /** Runs one health cycle now (tests; the timer runs it every interval). */
  runHealthCycle(): Promise<void>;
  /** Closes both endpoints within `timeoutMs`, whatever either server does. */
  close(timeoutMs?: number): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger, hooks: DatabaseHooks = {}): Promise<Database> {
  const options = (role: Role): EndpointOptions => ({
    poolLimit: config.poolLimit,
    log,
    onQuery: hooks.onQuery,
    signer: hooks.signers?.[role],
    // A reader is given up on quickly (its reads have the writer to go to);
    // the writer only when a statement has hung for good.
    connectTimeoutMs: role === "reader" ? config.readTimeoutMs : 5000,
    queryTimeoutMs: role === "reader" ? config.readTimeoutMs + 1000 : config.queryTimeoutMs,
    maxLifetimeMs: config.connectionMaxLifetimeMs,
    onAuthRetry: hooks.onAuthRetry,
    // A write refused as read-only means the writer address reached a standby: a failover.
    onReadOnly: role === "writer" ? () => health.writerReadOnly("a write was refused with SQLSTATE 25006") : undefined,
  });
  const writer = createEndpoint(config.writer, options("writer"));
  const readers = new ReaderSet(
    log,
    {
      onChange: (member, status, previous) => {
        // Whatever the pool held while the reader was unusable is suspect: a
        // connection that stalled on a hung server must never serve a read.
        if (status === "degraded" || previous === "degraded") member.endpoint.recycle();
        hooks.onReaderStatus?.(member, readers.status);
      },
      onMembership: (member, change) => hooks.onReaderMembership?.(member, change, readers.status),
    },
    config.readers.length,
    config.readerDiscovery.zone,
  );
  // An instance no longer reached behind its address is let go after this long:
  // a balancer picking at random may miss one for a few cycles.
  const forgetAfterMs = Math.max(10_000, 10 * config.healthCheckIntervalMs);
  const topology = new ReaderTopology(config.readers, readers, { ...options("reader"), forgetAfterMs }, (reader) =>
    discoverySource(reader, config.readerDiscovery, log, async <R>(sql: string) => (await writer.pool.query(sql)).rows as R[]),
  );
  const positions = new WritePositions();
  const replayCheck = config.replayCheckTimeoutMs > 0 ? new ReplayCheck(config.replayCheckTimeoutMs, hooks.onReplayCheck) : undefined;
  // Recycling the writer pool is cheap, but not free: a burst of refused
  // writes recycles it at most once a second; the health cycle keeps
  // recycling every interval until the address reaches a primary.
  let recycledAt = 0;
  const recycleWriter = () => {
    if (Date.now() - recycledAt < 1000) return;
    recycledAt = Date.now();
    writer.recycle();
  };
  const health = new HealthMonitor(writer, readers, topology, {
    intervalMs: config.healthCheckIntervalMs,
    maxLagMs: config.readerMaxLagMs,
    // Not tied to the interval: a short interval must not turn a slow (busy) reader into a "dead" one.
    probeTimeoutMs: Math.min(5000, Math.max(1000, 2 * config.readTimeoutMs)),
    log,
    onWriterSuspect: recycleWriter,
    // What every usable reader has replayed no longer needs the writer.
    afterCycle: () => {
      const sample = health.latestWriterSample;
      if (sample) positions.settle(sample);
      const replayed = readers.replayed;
      if (replayed !== undefined && readers.forgetUpTo(replayed)) positions.prune(replayed);
      hooks.onHealthCycle?.({ readerLagMs: readers.lagMs, readers: readers.members });
    },
  });

  // Token fetch failures are logged by the providers; the probes below then
  // report the endpoint as unreachable, which is the truth.
  await Promise.all([writer.tokens, ...topology.tokens].map((tokens) => tokens?.start().catch(() => undefined)));
  const startStatus = await health.checkWriter();
  await health.checkReaders("start");
  if (startStatus === "disconnected")
    log.error(`Failed to connect to writer DB ${writer.description}; readiness reports 503 until it is reachable.`);
  for (const member of readers.members) {
    if (member.state.usable) log.info({ reader: member.endpoint.description }, "read replica DB connected; reads go to the reader");
  }

  health.start();

  // The insert position, not the write position: with synchronous_commit
  // off the commit record may not be written out yet, but it is inserted.
  const writerPosition = async () => {
    if (!readers.configured) return undefined;
    const rows = await writer.client.$queryRawUnsafe<Array<{ lsn: string }>>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
    return parseLsn(rows[0]?.lsn ?? "");
  };
  const replicated: Consistency = {
    writerPosition,
    replayedPosition: () => readers.replayed,
    async wrote(scopes) {
      const caller = callerScope();
      const touched = caller ? [...scopes, caller] : scopes;
      let lsn: Lsn | undefined;
      try {
        lsn = await writerPosition();
      } catch (error) {
        // The write is committed; only its position is unknown. Failing the
        // request now would invite a retry that applies it twice.
        log.warn({ err: error }, "could not read the writer's WAL position after a write; reads about it stay on the writer for now");
        positions.recordUnsettled(touched, Date.now());
        requireAtLeast(LSN_MAX);
        return undefined;
      }
      if (lsn === undefined) return undefined;
      positions.record(touched, lsn);
      noteRequestWrite(lsn);
      return lsn;
    },
    dependOn(scopes) {
      const caller = callerScope();
      for (const scope of caller ? [...scopes, caller] : scopes) requireAtLeast(positions.get(scope));
    },
    behind(scopes) {
      const replayed = readers.replayed;
      return scopes.some((scope) => {
        const lsn = positions.get(scope);
        return lsn !== undefined && (replayed === undefined || replayed < lsn);
      });
    },
    heard(scopes, lsn) {
      if (lsn === undefined) positions.recordUnsettled(scopes, Date.now());
      else positions.record(scopes, lsn);
    },
    readerMissIsFinal: () =>
      readerMissIsFinal({
        readerUsable: readers.usable,
        replayed: readers.replayed,
        needed: requiredLsn(),
        writerSettled: health.settledWriterPosition,
        localWrites: positions.highest(),
      }),
  };

  // Every write reaches the hook, with or without a replica.
  const base = readers.configured ? replicated : NO_REPLICA_CONSISTENCY;
  const consistency: Consistency = {
    ...base,
    async wrote(scopes) {
      const lsn = await base.wrote(scopes);
      await hooks.onWrite?.(scopes, lsn);
      return lsn;
    },
  };
  // The writer's client is read at each call too: a failover recycles its pool.
  const writerClient = new Proxy({} as PrismaClient, {
    get: (_target, prop) => {
      const client = writer.client;
      const value: unknown = Reflect.get(client, prop);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(client) : value;
    },
  });
  const db = readers.configured
    ? withReadReplica(
        writerClient,
        readRouter({
          readers,
          readTimeoutMs: config.readTimeoutMs,
          onFallback: hooks.onFallback,
          onReaderRead: hooks.onReaderRead,
          onReaderFallback: hooks.onReaderFallback,
          writerAway: () => health.writerStatus !== "connected",
          remeasure: () => health.remeasureReaders(),
          replayed: replayCheck && ((member, lsn) => replayCheck.reached(member, lsn)),
        }),
        consistency,
      )
    : withoutReplica(writerClient, consistency);

  return {
    db,
    reader: readers,
    health,
    consistency,
    writerStatus: () => health.writerStatus,
    runHealthCycle: () => health.runCycle(),
    async close(timeoutMs = 5000) {
      // A cycle already running is let finish (it may recycle a pool), but within half the budget:
      // one stuck on a hung server is not waited for.
      const deadline = Date.now() + timeoutMs;
      await Promise.race([health.stop(), new Promise((r) => setTimeout(r, timeoutMs / 2).unref())]);
      timeoutMs = Math.max(100, deadline - Date.now());
      await Promise.all([writer.close(timeoutMs), ...readers.members.map((m) => m.endpoint.close(timeoutMs))]);
      topology.close();
    },
  };
}

export type { Endpoint };
