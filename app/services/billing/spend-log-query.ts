import { Prisma } from "../../generated/prisma/client.js";
import type { RoutedClient } from "../../db/routing-client.js";
import type { SpendLog } from "../../generated/prisma/client.js";
import { toToken } from "../access/key-hash.js";
import { DAY_MS } from "./spend-partitions.js";
import type { SpendLogView } from "./spend-log-shape.js";

/** Without a range, the last 30 days: no request reads every partition. */
export const DEFAULT_RANGE_DAYS = 30;

export interface SpendLogFilter {
  /** A key or its hash. */
  api_key?: string;
  request_id?: string;
  user_id?: string;
  team_id?: string;
  end_user?: string;
  startTime?: Date;
  endTime?: Date;
  /** 1-based. */
  page: number;
  page_size: number;
}

/** The range a filter reads: as given, else the 30 days up to its end (or now). End exclusive. */
export function rangeOf(filter: Pick<SpendLogFilter, "startTime" | "endTime">, now = new Date()): { from: Date; to: Date } {
  const to = filter.endTime ?? new Date(now.getTime() + 60_000);
  return { from: filter.startTime ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS), to };
}

/**
 * Newest first, one page. Each text filter is matched through its column's
 * hash index; the range prunes the day partitions; the order is each
 * partition's index order, merged, so a page reads about its own rows
 * whatever the range holds. The values themselves are rechecked on the page,
 * outside: inside, the planner takes the recheck for a second, independent
 * condition, expects one row a partition, and sorts every matching row of
 * the range instead (200 ms for a user's 30 days at 30 M rows). Only a 64-bit
 * hash collision of two values could make a page one row short.
 */
export function spendLogSql(filter: SpendLogFilter, now = new Date()): Prisma.Sql {
  const { from, to } = rangeOf(filter, now);
  const where: Prisma.Sql[] = [Prisma.sql`"start_time" >= ${from} AND "start_time" < ${to}`];
  const recheck: Prisma.Sql[] = [];
  const byHash = (column: string, value: string) => {
    where.push(Prisma.sql`hashtextextended(${Prisma.raw(`"${column}"`)}, 0) = hashtextextended(${value}::text, 0)`);
    recheck.push(Prisma.sql`${Prisma.raw(`"${column}"`)} = ${value}`);
  };
  if (filter.api_key) byHash("api_key", toToken(filter.api_key));
  if (filter.user_id) byHash("user", filter.user_id);
  if (filter.team_id) byHash("team_id", filter.team_id);
  if (filter.end_user) byHash("end_user", filter.end_user);
  if (filter.request_id) byHash("request_id", filter.request_id);
  const order = Prisma.sql`ORDER BY "start_time" DESC, hashtextextended("request_id", 0) DESC`;
  const page = Prisma.sql`
    SELECT * FROM "tandem_spend_rows"
    WHERE ${Prisma.join(where, " AND ")}
    ${order}
    LIMIT ${filter.page_size} OFFSET ${(filter.page - 1) * filter.page_size}`;
  if (recheck.length === 0) return page;
  return Prisma.sql`SELECT * FROM (${page}) AS "page" WHERE ${Prisma.join(recheck, " AND ")} ${order}`;
}

/** A spend row under LiteLLM's SpendLogs names (startTime, endTime, user, call_type, …). */
export function spendView(row: SpendLog): SpendLogView {
  // Stored without the call type of a plain completion; shown with it, as before.
  const metadata: SpendLogView["metadata"] = { call_type: "acompletion", ...(row.metadata as object | null) };
  return {
    request_id: row.request_id,
    call_type: metadata.call_type,
    api_key: row.api_key,
    spend: row.spend,
    total_tokens: row.total_tokens,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    startTime: row.start_time.toISOString(),
    endTime: row.end_time.toISOString(),
    model: row.model,
    user: row.user,
    end_user: row.end_user ?? "",
    team_id: row.team_id,
    metadata,
    // LiteLLM's SpendLogs columns, strings as there.
    cache_hit: metadata.cache_hit === true ? "True" : "False",
    cache_key: metadata.cache_key ?? "Cache OFF",
  };
}

/** One page of spend rows, on the reader. */
export async function spendLogs(db: RoutedClient, filter: SpendLogFilter): Promise<SpendLogView[]> {
  const rows = await db.$queryRaw<SpendLog[]>(spendLogSql(filter));
  return rows.map(spendView);
}
