import type { PrismaClient } from "../../generated/prisma/client.js";

/** A UTC day as the partitions name it: "2026-12-07". */
export type Day = string;

export const DAY_MS = 86_400_000;

/** What the partition statements need of a client: the writer, or a transaction on it. */
type Client = Pick<PrismaClient, "$queryRaw">;

export function dayOf(time: Date): Day {
  return time.toISOString().slice(0, 10);
}

export function addDays(day: Day, days: number): Day {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** Today and the coming week: the days that exist ahead of their rows. */
export function comingWeek(now: Date): Day[] {
  return Array.from({ length: 8 }, (_, i) => addDays(dayOf(now), i));
}

/** Parses a partition's name (`tandem_spend_rows_20261207`) into its day. */
export function partitionDay(name: string): Day | undefined {
  const match = /^tandem_spend_rows_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/** Makes each day's partition of `tandem_spend_rows` that is missing (see its migration). */
export async function makePartitions(client: Client, days: readonly Day[]): Promise<void> {
  await client.$queryRaw`SELECT "tandem_spend_rows_partition"(d) FROM unnest(${days}::date[]) AS d`;
}

/** The days that have a partition, oldest first. */
export async function partitionDays(client: Client): Promise<Day[]> {
  const rows = await client.$queryRaw<Array<{ name: string }>>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'tandem_spend_rows'::regclass`;
  return rows
    .map((row) => partitionDay(row.name))
    .filter((day): day is Day => day !== undefined)
    .sort();
}

/**
 * The writer's side of the day partitions: a row's day made on demand before
 * it is written (a spend entry held through an outage may be days old), with
 * the days already made remembered so that a batch costs no statement.
 */
export class SpendPartitions {
  /** Days this pod knows to exist; forgotten when a write fails, since another pod's retention may have dropped one. */
  private readonly known = new Set<Day>();

  constructor(private readonly writer: () => PrismaClient) {}

  /** Makes sure each day has its partition (one short statement for the days this pod has not seen). */
  async ensure(days: Iterable<Day>): Promise<void> {
    const missing = [...new Set(days)].filter((day) => !this.known.has(day));
    if (missing.length === 0) return;
    await makePartitions(this.writer(), missing);
    for (const day of missing) this.known.add(day);
  }

  forget(): void {
    this.known.clear();
  }
}
