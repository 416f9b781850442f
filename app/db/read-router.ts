import { isConnectionError, isReadOnlyRefusal } from "./connection-errors.js";
import { requiredLsn } from "./consistency.js";
import type { Lsn } from "./lsn.js";
import type { ReaderState } from "./reader-state.js";
import type { ReadRouter } from "./routing-client.js";

export type FallbackReason =
  | "reader-degraded" // marked unusable: unreachable, hung or failing
  | "reader-lagging" // further behind than DATABASE_READ_REPLICA_MAX_LAG_MS
  | "read-your-writes" // the read needs a write the reader has not replayed yet
  | "reader-busy" // its pool is saturated: shed, not declared dead
  | "reader-timeout" // no answer within DATABASE_READ_TIMEOUT_MS: retried on the writer
  | "reader-connection-error" // failed at the connection level: retried on the writer
  | "reader-refused-write"; // a raw statement the replica refused as a write (25006)

export interface ReadRouterOptions {
  reader: ReaderState;
  /** The reader's replay position as last measured (undefined: unknown). */
  readerPosition: () => Lsn | undefined;
  /** The reader's pool has no free connection and a full queue. */
  readerBusy: () => boolean;
  readTimeoutMs: number;
  onFallback?: (reason: FallbackReason) => void;
}

export class ReadTimeoutError extends Error {
  override name = "ReadTimeoutError";
}

/**
 * Where one read runs. On the reader when it is usable, caught up with what
 * the read needs, and not saturated; otherwise on the writer. A read the
 * reader fails at the connection level, or does not answer in time, is run
 * once more on the writer (and the reader is marked degraded), so a reader
 * outage — dead, hung or blackholed — fails no request and holds none for
 * longer than the read timeout. Query errors are rethrown untouched: the
 * writer would fail them the same way.
 */
export function readRouter(options: ReadRouterOptions): ReadRouter {
  const { reader, onFallback } = options;
  const onWriterBecause = <T>(reason: FallbackReason, onWriter: () => PromiseLike<T>): PromiseLike<T> => {
    onFallback?.(reason);
    return onWriter();
  };
  return {
    async read(onReader, onWriter) {
      if (!reader.usable) return onWriterBecause(reader.status === "lagging" ? "reader-lagging" : "reader-degraded", onWriter);
      const needed = requiredLsn();
      if (needed !== undefined && !((options.readerPosition() ?? -1n) >= needed)) return onWriterBecause("read-your-writes", onWriter);
      if (options.readerBusy()) return onWriterBecause("reader-busy", onWriter);
      try {
        return await withTimeout(onReader(), options.readTimeoutMs);
      } catch (error) {
        if (error instanceof ReadTimeoutError) {
          reader.markDegraded(error, "timeout");
          return onWriterBecause("reader-timeout", onWriter);
        }
        if (isReadOnlyRefusal(error)) return onWriterBecause("reader-refused-write", onWriter);
        if (!isConnectionError(error)) throw error;
        if (options.readerBusy()) return onWriterBecause("reader-busy", onWriter);
        reader.markDegraded(error, "query");
        return onWriterBecause("reader-connection-error", onWriter);
      }
    },
  };
}

function withTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  const running = Promise.resolve(work);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadTimeoutError(`no answer from the reader within ${ms} ms`)), ms);
  });
  // The abandoned read ends by itself (the pool's query timeout destroys its connection).
  running.catch(() => undefined);
  return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
}
