import type { RoutedClient } from "../../db/routing-client.js";
import { Prisma } from "../../generated/prisma/client.js";
import { toToken } from "../access/key-hash.js";
import type { Metrics } from "./analytics-shapes.js";

// Usage pages and spend reports, answered from the daily aggregates (never the spend rows) and
// read on the replica: $queryRaw is a read in the routing client's table.

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

// Summed as float8: sum() over bigint columns accumulates in numeric, several times slower.
const SUMS = Prisma.sql`sum("spend") AS spend, sum("requests"::float8) AS requests,
  sum("prompt_tokens"::float8) AS prompt_tokens, sum("completion_tokens"::float8) AS completion_tokens,
  sum("cache_hits"::float8) AS cache_hits`;
const SUMS_WITHOUT_HITS = Prisma.sql`sum("spend") AS spend, sum("requests"::float8) AS requests,
  sum("prompt_tokens"::float8) AS prompt_tokens, sum("completion_tokens"::float8) AS completion_tokens, 0::float8 AS cache_hits`;

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

type KeyDayRow = Sums & { day: string; api_key: string; team_id: string };
type ModelDayRow = Sums & { day: string; model: string };

function add(into: Sums, row: Sums): Sums {
  into.spend += row.spend;
  into.requests += row.requests;
  into.prompt_tokens += row.prompt_tokens;
  into.completion_tokens += row.completion_tokens;
  into.cache_hits += row.cache_hits;
  return into;
}
const zero = (): Sums => ({ spend: 0, requests: 0, prompt_tokens: 0, completion_tokens: 0, cache_hits: 0 });

/**
 * LiteLLM's Usage page shape (`/user/daily/activity`, `/team/daily/activity`): per day, with the
 * day's spend by model, by key and by team, paged over the days that have any. Two scans of the
 * aggregates at once — per day × key × team (the day's, key's and team's sums all follow) and per
 * day × model — then the names of the page's keys and teams.
 */
export async function dailyActivity(db: RoutedClient, scope: ActivityScope, page: { page: number; page_size: number }) {
  const where = whereOf(scope);
  const [byKey, byModel] = await Promise.all([
    db.$queryRaw<KeyDayRow[]>`
      SELECT to_char("day", 'YYYY-MM-DD') AS day, "api_key", "team_id", ${SUMS} FROM "tandem_daily_spend" WHERE ${where} GROUP BY "day", "api_key", "team_id"`,
    db.$queryRaw<ModelDayRow[]>`
      SELECT to_char("day", 'YYYY-MM-DD') AS day, "model", ${SUMS} FROM "tandem_daily_spend" WHERE ${where} GROUP BY "day", "model"`,
  ]);
  const totals = new Map<string, Sums>();
  for (const row of byKey) totals.set(row.day, add(totals.get(row.day) ?? zero(), row));
  const total = [...totals.values()].reduce(add, zero());
  const dates = [...totals.keys()].sort();
  const totalPages = Math.max(1, Math.ceil(dates.length / page.page_size));
  const shown = dates.slice((page.page - 1) * page.page_size, page.page * page.page_size);
  const days = new Map<string, ActivityDay>(
    shown.map((date) => [
      date,
      {
        date,
        metrics: metricsOf(totals.get(date)!),
        breakdown: { models: {}, model_groups: {}, providers: {}, api_keys: {}, entities: {} },
      },
    ]),
  );
  const keySums = new Map<string, Map<string, Sums>>();
  const teamSums = new Map<string, Map<string, Sums>>();
  for (const row of byKey) {
    if (!days.has(row.day)) continue;
    const keys = keySums.get(row.day) ?? new Map<string, Sums>();
    keys.set(row.api_key, add(keys.get(row.api_key) ?? zero(), row));
    keySums.set(row.day, keys);
    const teams = teamSums.get(row.day) ?? new Map<string, Sums>();
    teams.set(row.team_id, add(teams.get(row.team_id) ?? zero(), row));
    teamSums.set(row.day, teams);
  }
  for (const row of byModel) {
    const day = days.get(row.day);
    if (!day) continue;
    day.breakdown.models[row.model] = { metrics: metricsOf(row), metadata: {} };
    day.breakdown.model_groups[row.model] = { metrics: metricsOf(row), metadata: {} };
  }
  const keys = new Set([...keySums.values()].flatMap((map) => [...map.keys()]));
  const teams = new Set([...teamSums.values()].flatMap((map) => [...map.keys()]).filter(Boolean));
  const [keyNames, teamNames] = await Promise.all([keyNamesOf(db, keys), teamNamesOf(db, teams)]);
  for (const [date, day] of days) {
    for (const [token, sums] of keySums.get(date) ?? [])
      day.breakdown.api_keys[token] = { metrics: metricsOf(sums), metadata: keyNames.get(token) ?? { key_alias: null, team_id: null } };
    for (const [teamId, sums] of teamSums.get(date) ?? [])
      if (teamId) day.breakdown.entities[teamId] = { metrics: metricsOf(sums), metadata: { team_alias: teamNames.get(teamId) ?? null } };
  }
  const totalMetrics = metricsOf(total);
  return {
    results: [...days.values()],
    metadata: {
      total_spend: totalMetrics.spend,
      total_prompt_tokens: totalMetrics.prompt_tokens,
      total_completion_tokens: totalMetrics.completion_tokens,
      total_tokens: totalMetrics.total_tokens,
      total_api_requests: totalMetrics.api_requests,
      total_successful_requests: totalMetrics.successful_requests,
      total_failed_requests: 0,
      total_cache_read_input_tokens: 0,
      total_cache_creation_input_tokens: 0,
      total_cache_hits: totalMetrics.cache_hits,
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
  let rows: ReportRow[];
  if (scope.group_by === "customer") {
    // End users are summed in their own table (the filters that do not cross are refused upstream).
    const only = scope.customer_id !== undefined ? Prisma.sql`AND "end_user" = ${scope.customer_id}` : Prisma.empty;
    rows = await db.$queryRaw<ReportRow[]>`
      SELECT to_char("day", 'YYYY-MM-DD') AS day, "end_user" AS entity, "model", '' AS api_key, ${SUMS_WITHOUT_HITS}
      FROM "tandem_daily_end_user_spend" WHERE "day" BETWEEN ${scope.start_date}::date AND ${scope.end_date}::date ${only}
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
  } else {
    const column = { team: "team_id", api_key: "api_key", user: "user_id" }[scope.group_by];
    const where = whereOf({
      start_date: scope.start_date,
      end_date: scope.end_date,
      api_key: scope.api_key,
      user_id: scope.internal_user_id,
      team_ids: scope.team_id !== undefined ? [scope.team_id] : undefined,
    });
    // Teams list their spend by key and model (LiteLLM's report); the others by model.
    const byKey = scope.group_by === "team";
    rows = await db.$queryRaw<ReportRow[]>`
      SELECT to_char("day", 'YYYY-MM-DD') AS day, ${Prisma.raw(`"${column}"`)} AS entity, "model",
        ${byKey ? Prisma.sql`"api_key"` : Prisma.sql`''`} AS api_key, ${SUMS}
      FROM "tandem_daily_spend" WHERE ${where}
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
  }
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
    SELECT "api_key", sum("spend") AS total_spend FROM "tandem_daily_spend" ${rangeOf(scope)}
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
    SELECT "model", sum("spend") AS total_spend, sum("requests"::float8) AS requests FROM "tandem_daily_spend" ${rangeOf(scope)}
    GROUP BY "model" ORDER BY total_spend DESC, "model" LIMIT ${scope.limit}`;
}

/**
 * LiteLLM's `/global/spend/teams`: the teams that spent most (`total_spend_per_team`), their names,
 * and their spend per day (`daily_spend`: one object per day, a field per team).
 */
export async function topTeams(db: RoutedClient, scope: TopScope) {
  const rows = await db.$queryRaw<Array<{ team_id: string; total_spend: number }>>`
    SELECT "team_id", sum("spend") AS total_spend FROM "tandem_daily_spend" ${rangeOf(scope)}
    GROUP BY "team_id" ORDER BY total_spend DESC, "team_id" LIMIT ${scope.limit}`;
  const names = await teamNamesOf(db, new Set(rows.map((row) => row.team_id).filter(Boolean)));
  // LiteLLM's daily_spend has a field per team name: two teams with one alias (or one named "date")
  // would overwrite each other, so such names get their id.
  const aliases = rows.map((row) => names.get(row.team_id) ?? (row.team_id || "Unassigned"));
  const nameOf = (teamId: string) => {
    const name = names.get(teamId) ?? (teamId || "Unassigned");
    return name === "date" || aliases.filter((alias) => alias === name).length > 1 ? `${name} (${teamId || "no team"})` : name;
  };
  const perDay = await db.$queryRaw<Array<{ day: string; team_id: string; spend: number }>>`
    SELECT to_char("day", 'YYYY-MM-DD') AS day, "team_id", sum("spend") AS spend FROM "tandem_daily_spend"
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
