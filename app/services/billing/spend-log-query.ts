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
 * hash index (the value rechecked); the range prunes the day partitions; the
 * order is each partition's index order, merged.
 */
export function spendLogSql(filter: SpendLogFilter, now = new Date()): Prisma.Sql {
  const { from, to } = rangeOf(filter, now);
  const where: Prisma.Sql[] = [Prisma.sql`"start_time" >= ${from} AND "start_time" < ${to}`];
  const byHash = (column: string, value: string) =>
    Prisma.sql`hashtextextended(${Prisma.raw(`"${column}"`)}, 0) = hashtextextended(${value}::text, 0) AND ${Prisma.raw(`"${column}"`)} = ${value}`;
  if (filter.api_key) where.push(byHash("api_key", toToken(filter.api_key)));
  if (filter.user_id) where.push(byHash("user", filter.user_id));
  if (filter.team_id) where.push(byHash("team_id", filter.team_id));
  if (filter.end_user) where.push(byHash("end_user", filter.end_user));
  if (filter.request_id) where.push(byHash("request_id", filter.request_id));
  return Prisma.sql`
    SELECT * FROM "tandem_spend_rows"
    WHERE ${Prisma.join(where, " AND ")}
    ORDER BY "start_time" DESC, hashtextextended("request_id", 0) DESC
    LIMIT ${filter.page_size} OFFSET ${(filter.page - 1) * filter.page_size}`;
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
