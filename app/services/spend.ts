import type { RoutedClient } from "../db/routing-client.js";
import type { SpendLog } from "../generated/prisma/client.js";
import { ApiError } from "./errors.js";
import { toToken } from "./key-hash.js";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface SpendRecord {
  requestId: string;
  /** Hashed token; "" for the master key. */
  token: string;
  teamId: string | null;
  model: string;
  usage: Usage;
  cost: number;
  startTime: Date;
  endTime: Date;
}

export function costOf(usage: Usage, prices: { inputCostPerToken: number; outputCostPerToken: number }): number {
  return usage.prompt_tokens * prices.inputCostPerToken + usage.completion_tokens * prices.outputCostPerToken;
}

/**
 * One spend row plus atomic increments of key and team spend, in one writer
 * transaction: `spend = spend + cost` in SQL, so concurrent requests never
 * lose an update (a read-modify-write in the app would).
 */
export async function recordSpend(db: RoutedClient, record: SpendRecord): Promise<void> {
  const { usage } = record;
  await db.$transaction([
    db.spendLog.create({
      data: {
        request_id: record.requestId,
        api_key: record.token,
        team_id: record.teamId,
        model: record.model,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
        spend: record.cost,
        start_time: record.startTime,
        end_time: record.endTime,
      },
    }),
    ...(record.token ? [db.virtualKey.updateMany({ where: { token: record.token }, data: { spend: { increment: record.cost } } })] : []),
    ...(record.teamId ? [db.team.updateMany({ where: { team_id: record.teamId }, data: { spend: { increment: record.cost } } })] : []),
  ]);
}

function spendView(row: SpendLog) {
  return { ...row, start_time: row.start_time.toISOString(), end_time: row.end_time.toISOString() };
}

export async function spendLogs(db: RoutedClient, filter: { api_key?: string; request_id?: string }) {
  if (!filter.api_key && !filter.request_id) throw ApiError.badRequest("api_key or request_id is required", "api_key");
  const rows = await db.spendLog.findMany({
    where: {
      ...(filter.api_key ? { api_key: toToken(filter.api_key) } : {}),
      ...(filter.request_id ? { request_id: filter.request_id } : {}),
    },
    orderBy: { start_time: "desc" },
    take: 1000,
  });
  return rows.map(spendView);
}
