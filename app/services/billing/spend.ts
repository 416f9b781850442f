import type { RoutedClient } from "../../db/routing-client.js";
import type { SpendLog } from "../../generated/prisma/client.js";
import { toToken } from "../access/key-hash.js";
import type { Price } from "../../config/prices.js";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  /** Of prompt_tokens, those read from the provider's prompt cache (billed at its cache-read price). */
  cached_tokens?: number;
  /** Of prompt_tokens, those written to the provider's prompt cache (Anthropic's, Bedrock's: billed at the cache-write price). */
  cache_creation_tokens?: number;
}

export interface SpendRecord {
  /** The row's identity: the upstream's response id, or one tandem generates — never the client's. */
  requestId: string;
  /** Hashed token of the caller's key (the master key's hash for master-key requests). */
  token: string;
  /** Whether `token` is a virtual key whose spend grows (false for the master key: it has no row). */
  keyed: boolean;
  teamId: string | null;
  /** The key's user (LiteLLM's `user` column); their spend grows too. */
  userId?: string | null;
  /** LiteLLM's global proxy budget user (litellm_settings.max_budget): every request's spend grows it too. */
  proxyBudgetUser?: string;
  /** The end user the request named (OpenAI's `user`): LiteLLM's "customer". */
  endUser?: string | null;
  /** LiteLLM's call_type: acompletion, atext_completion, aembedding. */
  callType?: string;
  model: string;
  usage: Usage;
  /** The usage was counted by tandem (a stream cut short), not reported by the upstream. */
  estimated?: boolean;
  cost: number;
  startTime: Date;
  endTime: Date;
  /** Answered from the response cache under this key (charged 0). */
  cacheKey?: string;
}

/** A call's cost at a deployment's price; past its long-context threshold the whole call is billed at the long-context rates. */
export function costOf(usage: Usage, price: Price, images = 0): number {
  if (price.perImage !== undefined && images > 0) return images * price.perImage;
  const rates = price.longContext && usage.prompt_tokens >= price.longContext.fromPromptTokens ? price.longContext : price;
  const read = usage.cached_tokens ?? 0;
  const written = usage.cache_creation_tokens ?? 0;
  const fresh = Math.max(0, usage.prompt_tokens - read - written);
  return (
    fresh * rates.inputPerToken +
    read * (rates.cacheReadPerToken ?? rates.inputPerToken) +
    written * (rates.cacheWritePerToken ?? rates.inputPerToken) +
    usage.completion_tokens * rates.outputPerToken
  );
}

/**
 * Writes one batch of spend in one writer transaction: the rows, skipping any
 * whose request id is already there, then `spend = spend + Σ cost` for each
 * key, team and user over the rows actually inserted. A retry after an unknown
 * outcome therefore counts nothing twice, and concurrent pods never lose an
 * update (the increment is done by the database).
 */
export async function writeSpendBatch(db: RoutedClient, batch: readonly SpendRecord[]): Promise<bigint | undefined> {
  if (batch.length === 0) return undefined;
  await db.$primary().$transaction(
    async (tx) => {
      // One statement for the whole batch: column arrays unnested server-side. Through Prisma's
      // query builder a thousand-row insert cost more CPU than the thousand requests it bills.
      const inserted = await tx.$queryRaw<Array<{ request_id: string }>>`
        INSERT INTO "tandem_spend_logs"
          ("request_id", "api_key", "team_id", "user", "end_user", "model", "prompt_tokens", "completion_tokens", "total_tokens",
           "spend", "start_time", "end_time", "metadata")
        SELECT * FROM unnest(
          ${batch.map((r) => r.requestId)}::text[], ${batch.map((r) => r.token)}::text[],
          ${batch.map((r) => r.teamId)}::text[], ${batch.map((r) => r.userId ?? null)}::text[],
          ${batch.map((r) => r.endUser ?? null)}::text[],
          ${batch.map((r) => r.model)}::text[], ${batch.map((r) => r.usage.prompt_tokens)}::int[],
          ${batch.map((r) => r.usage.completion_tokens)}::int[],
          ${batch.map((r) => r.usage.total_tokens ?? r.usage.prompt_tokens + r.usage.completion_tokens)}::int[],
          ${batch.map((r) => r.cost)}::float8[], ${batch.map((r) => r.startTime.toISOString())}::timestamptz[],
          ${batch.map((r) => r.endTime.toISOString())}::timestamptz[],
          ${batch.map((r) =>
            JSON.stringify({
              call_type: r.callType ?? "acompletion",
              ...(r.estimated ? { usage_estimated: true } : {}),
              ...(r.cacheKey ? { cache_hit: true, cache_key: r.cacheKey } : {}),
            }),
          )}::jsonb[])
        ON CONFLICT ("request_id") DO NOTHING
        RETURNING "request_id"`;
      const records = new Map(batch.map((record) => [record.requestId, record]));
      const byKey = new Map<string, number>();
      const byTeam = new Map<string, number>();
      const byUser = new Map<string, number>();
      const byMember = new Map<string, { team_id: string; user_id: string; cost: number }>();
      for (const { request_id } of inserted) {
        const record = records.get(request_id);
        if (!record) continue;
        if (record.keyed) byKey.set(record.token, (byKey.get(record.token) ?? 0) + record.cost);
        if (record.teamId) byTeam.set(record.teamId, (byTeam.get(record.teamId) ?? 0) + record.cost);
        if (record.teamId && record.userId) {
          const name = `${record.teamId}:${record.userId}`;
          const member = byMember.get(name) ?? { team_id: record.teamId, user_id: record.userId, cost: 0 };
          member.cost += record.cost;
          byMember.set(name, member);
        }
        for (const user of new Set([record.userId, record.proxyBudgetUser]))
          if (user) byUser.set(user, (byUser.get(user) ?? 0) + record.cost);
      }
      // The daily aggregates grow with the rows inserted, by the table's trigger (see its migration).
      // Sorted, so two pods flushing the same keys lock them in the same order (no deadlock).
      for (const [token, cost] of [...byKey].sort(([a], [b]) => a.localeCompare(b)))
        await tx.virtualKey.updateMany({ where: { token }, data: { spend: { increment: cost } } });
      for (const [teamId, cost] of [...byTeam].sort(([a], [b]) => a.localeCompare(b)))
        await tx.team.updateMany({ where: { team_id: teamId }, data: { spend: { increment: cost } } });
      for (const [userId, cost] of [...byUser].sort(([a], [b]) => a.localeCompare(b)))
        await tx.user.updateMany({ where: { user_id: userId }, data: { spend: { increment: cost } } });
      // A user's spend within a team grows where they are a member (no row: nothing to count against).
      // The rows are locked in one order first, as the updates above are, so pods cannot deadlock.
      const members = [...byMember.values()];
      if (members.length > 0) {
        const teams = members.map((m) => m.team_id);
        const users = members.map((m) => m.user_id);
        await tx.$queryRaw`
          SELECT 1 FROM "tandem_team_membership" AS m
          JOIN unnest(${teams}::text[], ${users}::text[]) AS v(team_id, user_id) ON m."team_id" = v.team_id AND m."user_id" = v.user_id
          ORDER BY m."team_id", m."user_id" FOR UPDATE OF m`;
        await tx.$executeRaw`
          UPDATE "tandem_team_membership" AS m SET "spend" = m."spend" + v.cost, "updated_at" = now()
          FROM unnest(${teams}::text[], ${users}::text[], ${members.map((m) => m.cost)}::float8[]) AS v(team_id, user_id, cost)
          WHERE m."team_id" = v.team_id AND m."user_id" = v.user_id`;
      }
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  // Where the replica must have got to before budget checks reading it see this batch.
  return db.$consistency.writerPosition();
}

/** A spend row under LiteLLM's SpendLogs names (startTime, endTime, user, call_type, …). */
function spendView(row: SpendLog) {
  return {
    request_id: row.request_id,
    call_type: (row.metadata as { call_type?: unknown } | null)?.call_type ?? "acompletion",
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
    metadata: row.metadata,
    // LiteLLM's SpendLogs columns, strings as there.
    cache_hit: (row.metadata as { cache_hit?: unknown } | null)?.cache_hit === true ? "True" : "False",
    cache_key: (row.metadata as { cache_key?: unknown } | null)?.cache_key ?? "Cache OFF",
  };
}

export interface SpendFilter {
  api_key?: string;
  request_id?: string;
  startTime?: Date;
  endTime?: Date;
}

/** Newest first, at most 1000: by key, by request id (the completion's id), and/or a time window; none lists the latest. */
export async function spendLogs(db: RoutedClient, filter: SpendFilter) {
  const rows = await db.spendLog.findMany({
    where: {
      ...(filter.api_key ? { api_key: toToken(filter.api_key) } : {}),
      ...(filter.request_id ? { request_id: filter.request_id } : {}),
      ...(filter.startTime || filter.endTime
        ? { start_time: { ...(filter.startTime ? { gte: filter.startTime } : {}), ...(filter.endTime ? { lte: filter.endTime } : {}) } }
        : {}),
    },
    orderBy: { start_time: "desc" },
    take: 1000,
  });
  return rows.map(spendView);
}
