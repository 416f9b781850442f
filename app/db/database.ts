import type { Config } from "../config/env.js";
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
import { parseLsn } from "./lsn.js";
import { readRouter, type FallbackReason } from "./read-router.js";
import { ReaderState, type ReaderStatus } from "./reader-state.js";
import { withoutReplica, withReadReplica, type RoutedClient } from "./routing-client.js";

export type { WriterStatus };

export interface DatabaseHooks {
  onQuery?: (role: Role) => void;
  onFallback?: (reason: FallbackReason) => void;
  onReaderStatus?: (status: ReaderStatus) => void;
  /** After every committed write a service reports (`$consistency.wrote`), with its scopes: caches drop what changed. */
  onWrite?: (scopes: readonly string[]) => void;
  /** After every health cycle (metrics). */
  onHealthCycle?: (state: { readerLagMs: number | undefined }) => void;
  /** Unit tests only: replaces the AWS signer of both endpoints. */
  signers?: Partial<Record<Role, TokenSigner>>;
}

/** What the rest of the app gets: the routed client and the state of both endpoints. */
export interface Database {
  db: RoutedClient;
  reader: ReaderState;
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
    // The reader is given up on quickly (its reads have the writer to go to);
    // the writer only when a statement has hung for good.
    connectTimeoutMs: role === "reader" ? config.readTimeoutMs : 5000,
    queryTimeoutMs: role === "reader" ? config.readTimeoutMs + 1000 : config.queryTimeoutMs,
  });
  const writer = createEndpoint(config.writer, options("writer"));
  const reader: Endpoint | undefined = config.reader ? createEndpoint(config.reader, options("reader")) : undefined;
  const readerState = new ReaderState(reader !== undefined, log, {
    onChange: (status, previous) => {
      // Whatever the pool held while the reader was unusable is suspect: a
      // connection that stalled on a hung server must never serve a read.
      if (status === "degraded" || previous === "degraded") reader?.recycle();
      hooks.onReaderStatus?.(status);
    },
  });
  const positions = new WritePositions();
  const health: HealthMonitor = new HealthMonitor(writer, reader, readerState, {
    intervalMs: config.healthCheckIntervalMs,
    maxLagMs: config.readerMaxLagMs,
    // Not tied to the interval: a short interval must not turn a slow (busy) reader into a "dead" one.
    probeTimeoutMs: Math.min(5000, Math.max(1000, 2 * config.readTimeoutMs)),
    log,
    // What the reader has replayed no longer needs the writer.
    afterCycle: () => {
      const replayed = health.readerPosition;
      if (replayed !== undefined) positions.prune(replayed);
      hooks.onHealthCycle?.({ readerLagMs: health.readerLagMs });
    },
  });

  // Token fetch failures are logged by the providers; the probes below then
  // report the endpoint as unreachable, which is the truth.
  await Promise.all([writer.tokens?.start().catch(() => undefined), reader?.tokens?.start().catch(() => undefined)]);
  const startStatus = await health.checkWriter();
  await health.checkReader("start");
  if (startStatus === "disconnected")
    log.error(`Failed to connect to writer DB ${writer.description}; readiness reports 503 until it is reachable.`);
  if (reader && readerState.usable) log.info({ reader: reader.description }, "read replica DB connected; reads go to the reader");

  health.start();

  // The insert position, not the write position: with synchronous_commit
  // off the commit record may not be written out yet, but it is inserted.
  const writerPosition = async () => {
    if (!reader) return undefined;
    const rows = await writer.client.$queryRawUnsafe<Array<{ lsn: string }>>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
    return parseLsn(rows[0]?.lsn ?? "");
  };
  const replicated: Consistency = {
    writerPosition,
    replayedPosition: () => health.readerPosition,
    async wrote(scopes) {
      const lsn = await writerPosition();
      if (lsn === undefined) return undefined;
      const caller = callerScope();
      positions.record(caller ? [...scopes, caller] : scopes, lsn);
      noteRequestWrite(lsn);
      return lsn;
    },
    dependOn(scopes) {
      const caller = callerScope();
      for (const scope of caller ? [...scopes, caller] : scopes) requireAtLeast(positions.get(scope));
    },
    behind(scopes) {
      const replayed = health.readerPosition;
      return scopes.some((scope) => {
        const lsn = positions.get(scope);
        return lsn !== undefined && (replayed === undefined || replayed < lsn);
      });
    },
    readerMissIsFinal: () =>
      readerMissIsFinal({
        readerUsable: readerState.usable,
        replayed: health.readerPosition,
        needed: requiredLsn(),
        writerSettled: health.settledWriterPosition,
        localWrites: positions.highest(),
      }),
  };

  // Every write reaches the hook, with or without a replica.
  const base = reader ? replicated : NO_REPLICA_CONSISTENCY;
  const consistency: Consistency = {
    ...base,
    wrote(scopes) {
      hooks.onWrite?.(scopes);
      return base.wrote(scopes);
    },
  };
  const db = reader
    ? withReadReplica(
        writer.client,
        () => reader.client,
        readRouter({
          reader: readerState,
          readerPosition: () => health.readerPosition,
          readerBusy: () => reader.saturated(),
          readTimeoutMs: config.readTimeoutMs,
          onFallback: hooks.onFallback,
        }),
        consistency,
      )
    : withoutReplica(writer.client, consistency);

  return {
    db,
    reader: readerState,
    health,
    consistency,
    writerStatus: () => health.writerStatus,
    runHealthCycle: () => health.runCycle(),
    async close(timeoutMs = 5000) {
      health.stop();
      await Promise.all([writer.close(timeoutMs), reader?.close(timeoutMs)]);
    },
  };
}

export type { Endpoint };
