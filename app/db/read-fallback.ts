import { isConnectionError } from "./connection-errors.js";
import type { ReaderState } from "./reader-state.js";
import type { ReadRouter } from "./routing-client.js";

export type FallbackReason = "reader-degraded" | "reader-connection-error";

/**
 * Where a read runs: on the reader while it is healthy; on the writer while
 * it is degraded; and — the per-query part LiteLLM lacks — once more on the
 * writer when the reader fails a read at the connection level, so an outage
 * that starts between two health checks fails no request. Query errors are
 * rethrown untouched: the writer would fail them the same way.
 */
export function readFallback(reader: ReaderState, onFallback?: (reason: FallbackReason) => void): ReadRouter {
  return {
    async read(onReader, onWriter) {
      if (!reader.usable) {
        onFallback?.("reader-degraded");
        return onWriter();
      }
      try {
        return await onReader();
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        reader.markDegraded(error, "query");
        onFallback?.("reader-connection-error");
        return onWriter();
      }
    },
  };
}
