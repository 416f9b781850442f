import type { PrismaClient } from "../../generated/prisma/client.js";
import type { Logger } from "../../observability/logger.js";
import { addDays, dayOf, type Day, type SpendPartitions } from "./spend-partitions.js";

const DAY_MS = 86_400_000;

export interface RetentionSettings {
  /** Days of spend rows kept (whole days: a day goes once all of it is older); undefined keeps them all. */
  periodDays?: number;
  /** How often one pod of the fleet runs it (default an hour). */
  intervalMs: number;
}

export interface RetentionRun {
  /** False when another pod held the lock: it is doing the same work. */
  ran: boolean;
  dropped: Day[];
}

/**
 * One retention pass, by one pod of the fleet at a time (a transaction-scoped
 * advisory lock on the writer; the others skip): the coming week's partitions
 * made, and every day whose whole partition is older than the period dropped
 * as a table. The daily aggregates are another table and keep the history.
 */
export async function runSpendRetention(
  writer: PrismaClient,
  partitions: SpendPartitions,
  periodDays: number | undefined,
  now = new Date(),
): Promise<RetentionRun> {
  return writer.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<
      Array<{ locked: boolean }>
    >`SELECT pg_try_advisory_xact_lock(hashtext('tandem_spend_retention')) AS locked`;
    if (!lock?.locked) return { ran: false, dropped: [] };
    // A spend write or a long report holding the table must not be kept waiting behind this.
    await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '5s'`);
    const ahead = Array.from({ length: 8 }, (_, i) => addDays(dayOf(now), i));
    await tx.$queryRaw`SELECT "tandem_spend_rows_partition"(d) FROM unnest(${ahead}::date[]) AS d`;
    if (periodDays === undefined) return { ran: true, dropped: [] };
    const oldestKept = now.getTime() - periodDays * DAY_MS;
    const dropped = (await partitions.days(tx)).filter((day) => Date.parse(`${addDays(day, 1)}T00:00:00Z`) <= oldestKept);
    for (const day of dropped) await tx.$executeRaw`SELECT "tandem_spend_rows_drop"(${day}::date)`;
    return { ran: true, dropped };
  });
}

/** Runs retention soon after the start (within a minute), then every interval; returns a stop function. */
export function scheduleSpendRetention(
  writer: () => PrismaClient,
  partitions: SpendPartitions,
  settings: RetentionSettings,
  log: Logger,
  firstRunMs = 5_000 + Math.floor(Math.random() * 25_000),
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    try {
      const result = await runSpendRetention(writer(), partitions, settings.periodDays);
      if (result.dropped.length > 0) {
        partitions.forget();
        log.info(
          { dropped: result.dropped, periodDays: settings.periodDays },
          `spend retention dropped ${result.dropped.length} day(s) of spend rows`,
        );
      }
    } catch (error) {
      log.warn({ err: error }, "spend retention failed; it runs again at the next interval");
    } finally {
      if (!stopped) timer = setTimeout(run, settings.intervalMs).unref();
    }
  };
  timer = setTimeout(run, firstRunMs).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
