import type { RoutedClient } from "../../db/routing-client.js";
import { Prisma } from "../../generated/prisma/client.js";
import { toToken } from "../access/key-hash.js";

// Usage pages and spend reports, answered from the daily aggregates (never the spend rows) and
// read on the replica: $queryRaw is a read in the routing client's table.

export interface Metrics {
  spend: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** tandem's: requests answered from the response cache. */
  cache_hits: number;
}

interface Sums {
  spend: number;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_hits: number;
}

export interface ActivityScope {
  start_date: string;
  end_date: string;
  user_id?: string;
  /** These teams' activity, or any team's (keys without a team left out). */
  team_ids?: readonly string[] | "any";
  api_key?: string;
  model?: string;
}

const SUMS = Prisma.sql`sum("spend")::float8 AS spend, sum("requests")::float8 AS requests,
  sum("prompt_tokens")::float8 AS prompt_tokens, sum("completion_tokens")::float8 AS completion_tokens,
  sum("cache_hits")::float8 AS cache_hits`;

/** The WHERE clause of a scope; a raw key (sk-…) or its hash both name a key. */
function whereOf(scope: ActivityScope): Prisma.Sql {
  const terms = [Prisma.sql`"day" BETWEEN ${scope.start_date}::date AND ${scope.end_date}::date`];
  if (scope.user_id !== undefined) terms.push(Prisma.sql`"user_id" = ${scope.user_id}`);
  if (scope.team_ids === "any") terms.push(Prisma.sql`"team_id" <> ''`);
  else if (scope.team_ids !== undefined) terms.push(Prisma.sql`"team_id" = ANY(${[...scope.team_ids]}::text[])`);
  if (scope.api_key !== undefined) terms.push(Prisma.sql`"api_key" = ${toToken(scope.api_key)}`);
  if (scope.model !== undefined) terms.push(Prisma.sql`"model" = ${scope.model}`);
  return Prisma.join(terms, " AND ");
}

function metricsOf(sums: Sums): Metrics {
  return {
    spend: sums.spend,
    prompt_tokens: sums.prompt_tokens,
    completion_tokens: sums.completion_tokens,
    total_tokens: sums.prompt_tokens + sums.completion_tokens,
    api_requests: sums.requests,
    // Only answered requests are charged and counted; failures are in the metrics, not the spend.
    successful_requests: sums.requests,
    failed_requests: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_hits: sums.cache_hits,
  };
}

interface Breakdown {
  metrics: Metrics;
  metadata: Record<string, unknown>;
}

interface ActivityDay {
  date: string;
  metrics: Metrics;
  breakdown: {
    models: Record<string, Breakdown>;
    model_groups: Record<string, Breakdown>;
    providers: Record<string, Breakdown>;
    api_keys: Record<string, Breakdown>;
    entities: Record<string, Breakdown>;
  };
}

type GroupRow = Sums & { day: string; model: string | null; api_key: string | null; team_id: string | null; grouping: number };

/**
 * LiteLLM's Usage page shape (`/user/daily/activity`, `/team/daily/activity`): per day, with the
 * day's spend by model, by key and by team, paged over the days that have any. One scan of the
 * aggregates (grouping sets), then the names of the page's keys and teams.
 */
export async function dailyActivity(db: RoutedClient, scope: ActivityScope, page: { page: number; page_size: number }) {
  const rows = await db.$queryRaw<GroupRow[]>`
    SELECT "day"::text AS day, "model", "api_key", "team_id", GROUPING("model", "api_key", "team_id")::int AS grouping, ${SUMS}
    FROM "tandem_daily_spend" WHERE ${whereOf(scope)}
    GROUP BY GROUPING SETS (("day"), ("day", "model"), ("day", "api_key"), ("day", "team_id"))`;
  const days = new Map<string, ActivityDay>();
  const total: Sums = { spend: 0, requests: 0, prompt_tokens: 0, completion_tokens: 0, cache_hits: 0 };
  // GROUPING's bits are the columns *not* grouped by: model, api_key, team_id from the highest.
  for (const row of rows.filter((r) => r.grouping === 0b111)) {
    days.set(row.day, {
      date: row.day,
      metrics: metricsOf(row),
      breakdown: { models: {}, model_groups: {}, providers: {}, api_keys: {}, entities: {} },
    });
    for (const name of ["spend", "requests", "prompt_tokens", "completion_tokens", "cache_hits"] as const) total[name] += row[name];
  }
  const dates = [...days.keys()].sort();
  const totalPages = Math.max(1, Math.ceil(dates.length / page.page_size));
  const shown = new Set(dates.slice((page.page - 1) * page.page_size, page.page * page.page_size));
  const keys = new Set<string>();
  const teams = new Set<string>();
  for (const row of rows) {
    const day = shown.has(row.day) ? days.get(row.day) : undefined;
    if (!day) continue;
    if (row.grouping === 0b011 && row.model !== null) {
      day.breakdown.models[row.model] = { metrics: metricsOf(row), metadata: {} };
      day.breakdown.model_groups[row.model] = { metrics: metricsOf(row), metadata: {} };
    } else if (row.grouping === 0b101 && row.api_key !== null) {
      day.breakdown.api_keys[row.api_key] = { metrics: metricsOf(row), metadata: {} };
      keys.add(row.api_key);
    } else if (row.grouping === 0b110 && row.team_id !== null) {
      day.breakdown.entities[row.team_id] = { metrics: metricsOf(row), metadata: {} };
      if (row.team_id) teams.add(row.team_id);
    }
  }
  const [keyNames, teamNames] = await Promise.all([keyNamesOf(db, keys), teamNamesOf(db, teams)]);
  const results = dates.filter((date) => shown.has(date)).map((date) => days.get(date)!);
  for (const day of results) {
    for (const [token, entry] of Object.entries(day.breakdown.api_keys))
      entry.metadata = keyNames.get(token) ?? { key_alias: null, team_id: null };
    for (const [teamId, entry] of Object.entries(day.breakdown.entities)) entry.metadata = { team_alias: teamNames.get(teamId) ?? null };
  }
  const totals = metricsOf(total);
  return {
    results,
    metadata: {
      total_spend: totals.spend,
      total_prompt_tokens: totals.prompt_tokens,
      total_completion_tokens: totals.completion_tokens,
      total_tokens: totals.total_tokens,
      total_api_requests: totals.api_requests,
      total_successful_requests: totals.successful_requests,
      total_failed_requests: 0,
      total_cache_read_input_tokens: 0,
      total_cache_creation_input_tokens: 0,
      total_cache_hits: totals.cache_hits,
      page: page.page,
      total_pages: totalPages,
      has_more: page.page < totalPages,
    },
  };
}

async function keyNamesOf(db: RoutedClient, tokens: ReadonlySet<string>) {
  if (tokens.size === 0) return new Map<string, { key_alias: string | null; key_name: string; team_id: string | null }>();
  const rows = await db.virtualKey.findMany({
    where: { token: { in: [...tokens] } },
    select: { token: true, key_alias: true, key_name: true, team_id: true },
  });
  return new Map(rows.map((row) => [row.token, { key_alias: row.key_alias, key_name: row.key_name, team_id: row.team_id }]));
}

async function teamNamesOf(db: RoutedClient, teamIds: ReadonlySet<string>) {
  if (teamIds.size === 0) return new Map<string, string | null>();
  const rows = await db.team.findMany({ where: { team_id: { in: [...teamIds] } }, select: { team_id: true, team_alias: true } });
  return new Map(rows.map((row) => [row.team_id, row.team_alias]));
}

export interface ReportScope {
  start_date: string;
  end_date: string;
  group_by: "team" | "customer" | "api_key" | "user";
  api_key?: string;
  internal_user_id?: string;
  team_id?: string;
  customer_id?: string;
}

type ReportRow = Sums & { day: string; entity: string; model: string; api_key: string };

/**
 * LiteLLM's `/global/spend/report`: per day, spend per team (or customer — the request's end user
 * —, key, or tandem's internal user), with the spend by model (and key, for teams) inside.
 */
export async function spendReport(db: RoutedClient, scope: ReportScope) {
  const column = { team: "team_id", customer: "end_user", api_key: "api_key", user: "user_id" }[scope.group_by];
  const filters = [Prisma.sql`"day" BETWEEN ${scope.start_date}::date AND ${scope.end_date}::date`];
  if (scope.api_key !== undefined) filters.push(Prisma.sql`"api_key" = ${toToken(scope.api_key)}`);
  if (scope.internal_user_id !== undefined) filters.push(Prisma.sql`"user_id" = ${scope.internal_user_id}`);
  if (scope.team_id !== undefined) filters.push(Prisma.sql`"team_id" = ${scope.team_id}`);
  if (scope.customer_id !== undefined) filters.push(Prisma.sql`"end_user" = ${scope.customer_id}`);
  // Teams list their spend by key and model (LiteLLM's report); the others by model.
  const byKey = scope.group_by === "team";
  const rows = await db.$queryRaw<ReportRow[]>`
    SELECT "day"::text AS day, ${Prisma.raw(`"${column}"`)} AS entity, "model",
      ${byKey ? Prisma.sql`"api_key"` : Prisma.sql`''`} AS api_key, ${SUMS}
    FROM "tandem_daily_spend" WHERE ${Prisma.join(filters, " AND ")}
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
  const days = new Map<string, Map<string, ReportRow[]>>();
  for (const row of rows) {
    const entities = days.get(row.day) ?? new Map<string, ReportRow[]>();
    entities.set(row.entity, [...(entities.get(row.entity) ?? []), row]);
    days.set(row.day, entities);
  }
  const entityIds = new Set(rows.map((row) => row.entity).filter(Boolean));
  const teamNames = scope.group_by === "team" ? await teamNamesOf(db, entityIds) : new Map<string, string | null>();
  const keyNames = scope.group_by === "api_key" ? await keyNamesOf(db, entityIds) : new Map<string, { key_alias: string | null }>();
  const sum = (list: readonly ReportRow[], field: keyof Sums) => list.reduce((acc, row) => acc + row[field], 0);
  return [...days].map(([day, entities]) => {
    const groups = [...entities].map(([id, list]) => {
      switch (scope.group_by) {
        case "team":
          return {
            team_id: id || null,
            team_name: teamNames.get(id) ?? (id || "Unassigned"),
            total_spend: sum(list, "spend"),
            metadata: list.map((row) => ({
              model: row.model,
              api_key: row.api_key,
              spend: row.spend,
              total_tokens: row.prompt_tokens + row.completion_tokens,
            })),
          };
        case "api_key":
          return {
            api_key: id,
            key_alias: keyNames.get(id)?.key_alias ?? null,
            total_cost: sum(list, "spend"),
            total_input_tokens: sum(list, "prompt_tokens"),
            total_output_tokens: sum(list, "completion_tokens"),
            model_details: list.map((row) => ({
              model: row.model,
              total_cost: row.spend,
              total_input_tokens: row.prompt_tokens,
              total_output_tokens: row.completion_tokens,
            })),
          };
        default:
          return {
            [scope.group_by === "customer" ? "customer" : "user_id"]: id || null,
            total_spend: sum(list, "spend"),
            metadata: list.map((row) => ({ model: row.model, spend: row.spend, total_tokens: row.prompt_tokens + row.completion_tokens })),
          };
      }
    });
    const name = { team: "teams", customer: "customers", api_key: "api_keys", user: "users" }[scope.group_by];
    return { group_by_day: `${day}T00:00:00+00:00`, [name]: groups };
  });
}

export interface TopScope {
  limit: number;
  start_date?: string;
  end_date?: string;
}

function rangeOf(scope: TopScope): Prisma.Sql {
  return scope.start_date && scope.end_date
    ? Prisma.sql`WHERE "day" BETWEEN ${scope.start_date}::date AND ${scope.end_date}::date`
    : Prisma.empty;
}

/** LiteLLM's `/global/spend/keys`: the keys that spent most, with their names. */
export async function topKeys(db: RoutedClient, scope: TopScope) {
  const rows = await db.$queryRaw<Array<{ api_key: string; total_spend: number }>>`
    SELECT "api_key", sum("spend")::float8 AS total_spend FROM "tandem_daily_spend" ${rangeOf(scope)}
    GROUP BY "api_key" ORDER BY total_spend DESC, "api_key" LIMIT ${scope.limit}`;
  const names = await keyNamesOf(db, new Set(rows.map((row) => row.api_key)));
  return rows.map((row) => ({
    api_key: row.api_key,
    total_spend: row.total_spend,
    key_alias: names.get(row.api_key)?.key_alias ?? null,
    key_name: names.get(row.api_key)?.key_name ?? null,
    team_id: names.get(row.api_key)?.team_id ?? null,
  }));
}

/** LiteLLM's `/global/spend/models`: the models that cost most. */
export async function topModels(db: RoutedClient, scope: TopScope) {
  return db.$queryRaw<Array<{ model: string; total_spend: number; requests: number }>>`
    SELECT "model", sum("spend")::float8 AS total_spend, sum("requests")::float8 AS requests FROM "tandem_daily_spend" ${rangeOf(scope)}
    GROUP BY "model" ORDER BY total_spend DESC, "model" LIMIT ${scope.limit}`;
}

/**
 * LiteLLM's `/global/spend/teams`: the teams that spent most (`total_spend_per_team`), their names,
 * and their spend per day (`daily_spend`: one object per day, a field per team).
 */
export async function topTeams(db: RoutedClient, scope: TopScope) {
  const rows = await db.$queryRaw<Array<{ team_id: string; total_spend: number }>>`
    SELECT "team_id", sum("spend")::float8 AS total_spend FROM "tandem_daily_spend" ${rangeOf(scope)}
    GROUP BY "team_id" ORDER BY total_spend DESC, "team_id" LIMIT ${scope.limit}`;
  const names = await teamNamesOf(db, new Set(rows.map((row) => row.team_id).filter(Boolean)));
  const nameOf = (teamId: string) => names.get(teamId) ?? (teamId || "Unassigned");
  const perDay = await db.$queryRaw<Array<{ day: string; team_id: string; spend: number }>>`
    SELECT "day"::text AS day, "team_id", sum("spend")::float8 AS spend FROM "tandem_daily_spend"
    WHERE "team_id" = ANY(${rows.map((row) => row.team_id)}::text[])
      ${scope.start_date && scope.end_date ? Prisma.sql`AND "day" BETWEEN ${scope.start_date}::date AND ${scope.end_date}::date` : Prisma.empty}
    GROUP BY 1, 2 ORDER BY 1, 2`;
  const daily = new Map<string, Record<string, string | number>>();
  for (const row of perDay) daily.set(row.day, { ...(daily.get(row.day) ?? { date: row.day }), [nameOf(row.team_id)]: row.spend });
  return {
    teams: rows.map((row) => nameOf(row.team_id)),
    total_spend_per_team: rows.map((row) => ({
      team_id: row.team_id || null,
      team_alias: names.get(row.team_id) ?? null,
      total_spend: row.total_spend,
    })),
    daily_spend: [...daily.values()],
  };
}
