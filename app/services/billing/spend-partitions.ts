import type { PrismaClient } from "../../generated/prisma/client.js";

/** A UTC day as the partitions name it: "2026-12-07". */
export type Day = string;

const DAY_MS = 86_400_000;

export function dayOf(time: Date): Day {
  return time.toISOString().slice(0, 10);
}

export function addDays(day: Day, days: number): Day {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** Parses a partition's name (`tandem_spend_rows_20261207`) into its day. */
export function partitionDay(name: string): Day | undefined {
  const match = /^tandem_spend_rows_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/**
 * The day partitions of `tandem_spend_rows` (see its migration): made ahead
 * for the coming days, made on demand for a row's day before it is written
 * (a spend entry held through an outage may be days old), dropped whole when
 * retention says so. Always on the writer.
 */
export class SpendPartitions {
  /** Days this pod knows to exist; forgotten when a write fails, since another pod's retention may have dropped one. */
  private readonly known = new Set<Day>();

  constructor(private readonly writer: () => PrismaClient) {}

  /** Makes sure each day has its partition (one short statement for the days this pod has not seen). */
  async ensure(days: Iterable<Day>): Promise<void> {
    const missing = [...new Set(days)].filter((day) => !this.known.has(day));
    if (missing.length === 0) return;
    await this.writer().$queryRaw`SELECT "tandem_spend_rows_partition"(d) FROM unnest(${missing}::date[]) AS d`;
    for (const day of missing) this.known.add(day);
  }

  /** Today's partition and the next `ahead` days'. */
  ensureAhead(now: Date, ahead = 7): Promise<void> {
    return this.ensure(Array.from({ length: ahead + 1 }, (_, i) => addDays(dayOf(now), i)));
  }

  forget(): void {
    this.known.clear();
  }

  /** The days that have a partition, oldest first. */
  async days(client: Pick<PrismaClient, "$queryRaw"> = this.writer()): Promise<Day[]> {
    const rows = await client.$queryRaw<Array<{ name: string }>>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'tandem_spend_rows'::regclass`;
    return rows
      .map((row) => partitionDay(row.name))
      .filter((day): day is Day => day !== undefined)
      .sort();
  }
}
