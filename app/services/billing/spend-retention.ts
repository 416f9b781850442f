import type { PrismaClient } from "../../generated/prisma/client.js";
import type { Logger } from "../../observability/logger.js";
import type { RetentionSettings } from "../../config/retention.js";
import { every } from "../every.js";
import { addDays, comingWeek, DAY_MS, makePartitions, partitionDays, type Day, type SpendPartitions } from "./spend-partitions.js";

/** The period (undefined keeps every row) and how often one pod of the fleet runs it, resolved. */
type Retention = RetentionSettings & { intervalMs: number };

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
export async function runSpendRetention(writer: PrismaClient, periodDays: number | undefined, now = new Date()): Promise<RetentionRun> {
  return writer.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<
      Array<{ locked: boolean }>
    >`SELECT pg_try_advisory_xact_lock(hashtext('tandem_spend_retention')) AS locked`;
    if (!lock?.locked) return { ran: false, dropped: [] };
    // A spend write or a long report holding the table must not be kept waiting behind this.
    await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '5s'`);
    await makePartitions(tx, comingWeek(now));
    if (periodDays === undefined) return { ran: true, dropped: [] };
    const oldestKept = now.getTime() - periodDays * DAY_MS;
    const dropped = (await partitionDays(tx)).filter((day) => Date.parse(`${addDays(day, 1)}T00:00:00Z`) <= oldestKept);
    for (const day of dropped) await tx.$executeRaw`SELECT "tandem_spend_rows_drop"(${day}::date)`;
    return { ran: true, dropped };
  });
}

/** Runs retention soon after the start (within a minute), then every interval; returns a stop function. */
export function scheduleSpendRetention(
  writer: () => PrismaClient,
  partitions: SpendPartitions,
  settings: Retention,
  log: Logger,
  firstRunMs = 5_000 + Math.floor(Math.random() * 25_000),
): () => void {
  const run = async () => {
    try {
      const result = await runSpendRetention(writer(), settings.periodDays);
      if (result.dropped.length > 0) {
        // This pod's writes make sure of a dropped day again if a late row needs it.
        partitions.forget();
        log.info(
          { dropped: result.dropped, periodDays: settings.periodDays },
          `spend retention dropped ${result.dropped.length} day(s) of spend rows`,
        );
      }
    } catch (error) {
      log.warn({ err: error }, "spend retention failed; it runs again at the next interval");
    }
  };
  return every(settings.intervalMs, run, firstRunMs);
}
