import { isAuthFailure, isConnectionError, isReadOnlyRefusal } from "./connection-errors.js";
import { requiredLsn } from "./consistency.js";
import { withDeadline } from "./deadline.js";
import type { Lsn } from "./lsn.js";
import type { ReaderChoice, ReaderMember, ReaderSet } from "./reader-set.js";
import type { ReadRouter } from "./routing-client.js";

export type FallbackReason =
  | "reader-degraded" // marked unusable: unreachable, hung or failing
  | "reader-lagging" // further behind than DATABASE_READ_REPLICA_MAX_LAG_MS
  | "read-your-writes" // the read needs a write the reader has not replayed yet
  | "reader-busy" // its pool is saturated: shed, not declared dead
  | "reader-timeout" // no answer within DATABASE_READ_TIMEOUT_MS: retried on the writer
  | "reader-connection-error" // failed at the connection level: retried on the writer
  | "reader-refused-write" // a raw statement the replica refused as a write (25006)
  | "reader-auth-failed"; // a new connection's credentials refused (a rotation propagating): retried on the writer, the reader kept

export interface ReadRouterOptions {
  readers: ReaderSet;
  readTimeoutMs: number;
  onFallback?: (reason: FallbackReason) => void;
  /** A read answered by this reader (metrics: reads per reader). */
  onReaderRead?: (member: ReaderMember) => void;
  /** A read this reader was picked for and did not answer, so the writer did (metrics: fallbacks per reader). */
  onReaderFallback?: (member: ReaderMember, reason: FallbackReason) => void;
  /** Whether the writer is away (unreachable or read-only): a read sent there would fail. */
  writerAway?: () => boolean;
  /** Measures the readers' replay positions now (bounded), instead of at the next health cycle. */
  remeasure?: () => Promise<void>;
  /** Asks one instance whether it has replayed a position by now (read-your-writes on demand). */
  replayed?: (member: ReaderMember, lsn: Lsn) => Promise<boolean>;
}

export class ReadTimeoutError extends Error {
  override name = "ReadTimeoutError";
}

/**
 * Where one read runs. On a reader the reader set picks (usable, caught up
 * with what the read needs, not saturated, fewest reads in flight); on the
 * writer when there is none. A read a reader fails at the connection level,
 * or does not answer in time, is run once more on the writer and that reader
 * is marked degraded, so a reader outage — dead, hung or blackholed — fails
 * no request and holds none for longer than the read timeout; the next reads
 * go to the other readers. Query errors are rethrown untouched: the writer
 * would fail them the same way. A read that needs a write the readers were
 * not yet seen replaying asks the likeliest instance whether it has it by
 * now, and goes to the writer only if not; while the writer is away (known,
 * or found when that read fails to connect) the readers are measured again
 * instead: they have usually replayed the write since the last health cycle.
 */
export function readRouter(options: ReadRouterOptions): ReadRouter {
  const { readers, onFallback } = options;
  const onWriterBecause = <T>(reason: FallbackReason, onWriter: () => PromiseLike<T>): PromiseLike<T> => {
    onFallback?.(reason);
    return onWriter();
  };
  // No instance known to have what the read needs: ask the likeliest one.
  const confirmed = async (choice: ReaderChoice): Promise<ReaderChoice> => {
    if (!("reason" in choice) || choice.reason !== "read-your-writes" || !options.replayed) return choice;
    const candidate = readers.candidate(requiredLsn());
    if (!candidate || !(await options.replayed(candidate.member, candidate.atLeast))) return choice;
    // It may have left the set while it was asked (its pool is closing): choose again.
    return readers.members.includes(candidate.member) ? { member: candidate.member } : readers.choose(requiredLsn());
  };
  return {
    async read(onReader, onWriter) {
      const onMember = async (member: ReaderMember) => {
        const instead = (reason: FallbackReason) => {
          options.onReaderFallback?.(member, reason);
          return onWriterBecause(reason, onWriter);
        };
        member.outstanding++;
        try {
          const result = await withDeadline(
            onReader(member.endpoint.client),
            options.readTimeoutMs,
            () => new ReadTimeoutError(`no answer from the reader within ${options.readTimeoutMs} ms`),
          );
          options.onReaderRead?.(member);
          return result;
        } catch (error) {
          if (error instanceof ReadTimeoutError) {
            member.state.markDegraded(error, "timeout");
            return instead("reader-timeout");
          }
          if (isReadOnlyRefusal(error)) return instead("reader-refused-write");
          // Not degraded: its open connections still work, and recycling them would only make it worse.
          if (isAuthFailure(error)) return instead("reader-auth-failed");
          if (!isConnectionError(error)) throw error;
          if (member.endpoint.saturated()) return instead("reader-busy");
          member.state.markDegraded(error, "query");
          return instead("reader-connection-error");
        } finally {
          member.outstanding--;
        }
      };
      // Read-your-writes with the writer away: the readers have usually replayed the write since
      // the last health cycle; measure them now rather than send the read where it would fail.
      const remeasured = async () => {
        // Bounded like a read on a reader: a slow measurement (an instance not answering) must not hold the request.
        const measuring = options.remeasure?.() ?? Promise.resolve();
        await withDeadline(measuring, options.readTimeoutMs, () => new ReadTimeoutError("measuring the readers took too long")).catch(
          () => undefined,
        );
        return readers.choose(requiredLsn());
      };
      let choice = await confirmed(readers.choose(requiredLsn()));
      const forWrites = "reason" in choice && choice.reason === "read-your-writes" && options.remeasure !== undefined;
      if (forWrites && options.writerAway?.()) choice = await remeasured();
      if (!("reason" in choice)) return onMember(choice.member);
      if (!forWrites) return onWriterBecause(choice.reason, onWriter);
      try {
        return await onWriterBecause(choice.reason, onWriter);
      } catch (error) {
        // The writer went away before the health cycle noticed.
        if (!isConnectionError(error)) throw error;
        const again = await remeasured();
        if ("reason" in again) throw error;
        return onMember(again.member);
      }
    },
  };
}
