import type { Config } from "../config/env.js";
import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";
import { createEndpoint, type Endpoint, type EndpointOptions, type Role } from "./endpoint.js";
import type { TokenSigner } from "./iam-token.js";
import { readFallback, type FallbackReason } from "./read-fallback.js";
import { ReaderState, type ReaderStatus } from "./reader-state.js";
import { withoutReplica, withReadReplica, type RoutedClient } from "./routing-client.js";

export type WriterStatus = "connected" | "disconnected";

export interface DatabaseHooks {
  onQuery?: (role: Role) => void;
  onFallback?: (reason: FallbackReason) => void;
  onReaderStatus?: (status: ReaderStatus) => void;
  /** Unit tests only: replaces the AWS signer of both endpoints. */
  signers?: Partial<Record<Role, TokenSigner>>;
}

/** What the rest of the app gets: the routed client and the state of both endpoints. */
export interface Database {
  db: RoutedClient;
  reader: ReaderState;
  writerStatus(): WriterStatus;
  /** Probes the writer now (readiness); updates writerStatus. */
  checkWriter(timeoutMs?: number): Promise<WriterStatus>;
  /** Runs one reconnect cycle now (tests; the timer runs it every interval). */
  runHealthCycle(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger, hooks: DatabaseHooks = {}): Promise<Database> {
  const options = (role: Role): EndpointOptions => ({
    poolLimit: config.poolLimit,
    log,
    onQuery: hooks.onQuery,
    signer: hooks.signers?.[role],
  });
  const writer = createEndpoint(config.writer, options("writer"));
  const reader = config.reader ? createEndpoint(config.reader, options("reader")) : undefined;
  const readerState = new ReaderState(reader !== undefined, log, { onChange: hooks.onReaderStatus });
  // Not tied to the interval: a short interval must not turn a slow (busy) reader into a "dead" one.
  const probeTimeoutMs = 5000;
  let writerStatus: WriterStatus = "disconnected";

  const checkWriter = async (timeoutMs = probeTimeoutMs): Promise<WriterStatus> => {
    try {
      await writer.probe(timeoutMs);
      if (writerStatus !== "connected") log.info({ endpoint: writer.description }, "writer DB connected");
      writerStatus = "connected";
    } catch (error) {
      if (writerStatus !== "disconnected") log.error({ err: error }, `writer DB unreachable: ${message(error)}`);
      writerStatus = "disconnected";
    }
    return writerStatus;
  };

  const checkReader = async (where: "start" | "health-check"): Promise<void> => {
    if (!reader) return;
    try {
      await reader.probe(probeTimeoutMs);
      readerState.markHealthy();
    } catch (error) {
      readerState.markDegraded(error, where);
    }
  };

  // Token fetch failures are logged by the providers; the probes below then
  // report the endpoint as unreachable, which is the truth.
  await Promise.all([writer.tokens?.start().catch(() => undefined), reader?.tokens?.start().catch(() => undefined)]);
  const [startStatus] = await Promise.all([checkWriter(), checkReader("start")]);
  if (startStatus === "disconnected")
    log.error(`Failed to connect to writer DB ${writer.description}; readiness reports 503 until it is reachable.`);
  if (reader && readerState.usable) log.info({ reader: reader.description }, "read replica DB connected; reads go to the reader");

  const runHealthCycle = async () => {
    await Promise.all([checkWriter(), checkReader("health-check")]);
  };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = () => {
    timer = setTimeout(() => {
      void runHealthCycle().finally(() => {
        if (!closed) schedule();
      });
    }, config.healthCheckIntervalMs);
    timer.unref();
  };
  schedule();

  const db = reader
    ? withReadReplica(writer.client, reader.client, readFallback(readerState, hooks.onFallback))
    : withoutReplica(writer.client);

  return {
    db,
    reader: readerState,
    writerStatus: () => writerStatus,
    checkWriter,
    runHealthCycle,
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.all([writer.close(), reader?.close()]);
    },
  };
}

function message(error: unknown): string {
  return scrub(error instanceof Error ? error.message : String(error));
}

export type { Endpoint };
