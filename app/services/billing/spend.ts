import type { RoutedClient } from "../../db/routing-client.js";
import type { Price } from "../../config/prices.js";
import { dayOf, SpendPartitions } from "./spend-partitions.js";

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
  /** The team's organization, whose spend grows too. */
  organizationId?: string | null;
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
export async function writeSpendBatch(
  db: RoutedClient,
  batch: readonly SpendRecord[],
  partitions = new SpendPartitions(() => db.$primary()),
): Promise<bigint | undefined> {
  if (batch.length === 0) return undefined;
  // Each row's day has its partition before the transaction (whose lock would otherwise be held while one is made).
  await partitions.ensure(batch.map((r) => dayOf(r.startTime)));
  await insertBatch(db, batch).catch((error: unknown) => {
    // Perhaps a day another pod's retention dropped meanwhile: the next attempt makes sure of them again.
    partitions.forget();
    throw error;
  });
  // Where the replica must have got to before budget checks reading it see this batch.
  return db.$consistency.writerPosition();
}

async function insertBatch(db: RoutedClient, batch: readonly SpendRecord[]): Promise<void> {
  await db.$primary().$transaction(
    async (tx) => {
      // One statement for the whole batch: column arrays unnested server-side. Through Prisma's
      // query builder a thousand-row insert cost more CPU than the thousand requests it bills.
      const inserted = await tx.$queryRaw<Array<{ request_id: string }>>`
        INSERT INTO "tandem_spend_rows"
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
          ${batch.map(metadataOf)}::jsonb[])
        ON CONFLICT DO NOTHING
        RETURNING "request_id"`;
      const records = new Map(batch.map((record) => [record.requestId, record]));
      const byKey = new Map<string, number>();
      const byTeam = new Map<string, number>();
      const byUser = new Map<string, number>();
      const byMember = new Map<string, { team_id: string; user_id: string; cost: number }>();
      const byEndUser = new Map<string, number>();
      const byOrganization = new Map<string, number>();
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
        if (record.organizationId)
          byOrganization.set(record.organizationId, (byOrganization.get(record.organizationId) ?? 0) + record.cost);
        if (record.endUser) byEndUser.set(record.endUser, (byEndUser.get(record.endUser) ?? 0) + record.cost);
        for (const user of new Set([record.userId, record.proxyBudgetUser]))
          if (user) byUser.set(user, (byUser.get(user) ?? 0) + record.cost);
      }
      // The daily aggregates grow with the rows inserted, by the table's trigger (see its migration).
      // Sorted, so two pods flushing the same keys lock them in the same order (no deadlock).
      for (const [token, cost] of [...byKey].sort(([a], [b]) => a.localeCompare(b)))
        await tx.virtualKey.updateMany({ where: { token }, data: { spend: { increment: cost } } });
      for (const [teamId, cost] of [...byTeam].sort(([a], [b]) => a.localeCompare(b)))
        await tx.team.updateMany({ where: { team_id: teamId }, data: { spend: { increment: cost } } });
      for (const [organizationId, cost] of [...byOrganization].sort(([a], [b]) => a.localeCompare(b)))
        await tx.organization.updateMany({ where: { organization_id: organizationId }, data: { spend: { increment: cost } } });
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
      // An end user's spend grows with every request naming it; one nobody made is made by its first
      // (as LiteLLM does). In id order, as above.
      if (byEndUser.size > 0) {
        const endUsers = [...byEndUser].sort(([a], [b]) => a.localeCompare(b));
        await tx.$executeRaw`
          INSERT INTO "tandem_end_user" ("user_id", "spend")
          SELECT v.id, sum(v.cost) FROM unnest(${endUsers.map(([id]) => id)}::text[], ${endUsers.map(([, cost]) => cost)}::float8[]) AS v(id, cost)
          -- Ids that differ here may be one text there (lone surrogates become U+FFFD): summed, not upserted twice.
          GROUP BY v.id ORDER BY v.id
          ON CONFLICT ("user_id") DO UPDATE SET "spend" = "tandem_end_user"."spend" + excluded."spend", "updated_at" = now()`;
      }
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
}

/**
 * tandem's own flags on a row, NULL for a plain completion: small and bounded
 * by construction (no field comes from the client; a cache key is a hash).
 */
function metadataOf(r: SpendRecord): string | null {
  const flags = {
    ...(r.callType && r.callType !== "acompletion" ? { call_type: r.callType } : {}),
    ...(r.estimated ? { usage_estimated: true } : {}),
    ...(r.cacheKey ? { cache_hit: true, cache_key: r.cacheKey } : {}),
  };
  return Object.keys(flags).length > 0 ? JSON.stringify(flags) : null;
}
