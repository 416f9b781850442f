import type { WriterTransaction } from "../../db/routing-client.js";
import type { SpendRecord } from "./spend.js";

interface Sums {
  spend: number;
  requests: number;
  prompt: number;
  completion: number;
  hits: number;
}

/** The rows summed per `keyOf` (its columns), in key order: pods flushing the same days lock rows alike. */
function sumBy<K extends readonly string[]>(rows: readonly SpendRecord[], keyOf: (row: SpendRecord) => K): Array<{ key: K } & Sums> {
  const groups = new Map<string, { key: K } & Sums>();
  for (const row of rows) {
    const key = keyOf(row);
    const id = key.join("\u0000");
    const sum = groups.get(id) ?? { key, spend: 0, requests: 0, prompt: 0, completion: 0, hits: 0 };
    sum.spend += row.cost;
    sum.requests += 1;
    sum.prompt += row.usage.prompt_tokens;
    sum.completion += row.usage.completion_tokens;
    sum.hits += row.cacheKey ? 1 : 0;
    groups.set(id, sum);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, sum]) => sum);
}

const dayOf = (row: SpendRecord) => row.startTime.toISOString().slice(0, 10);

/**
 * Grows the daily aggregates by the rows a spend batch actually inserted, inside its transaction:
 * per day × key × team × user × model, and per day × end user × model for requests naming one.
 * One statement each.
 */
export async function addToDailySpend(tx: WriterTransaction, rows: readonly SpendRecord[]): Promise<void> {
  const days = sumBy(rows, (r) => [dayOf(r), r.token, r.teamId ?? "", r.userId ?? "", r.model] as const);
  if (days.length > 0)
    await tx.$executeRaw`
      INSERT INTO "tandem_daily_spend" AS d ("day", "api_key", "team_id", "user_id", "model", "spend", "requests", "prompt_tokens", "completion_tokens", "cache_hits")
      SELECT * FROM unnest(${days.map((s) => s.key[0])}::date[], ${days.map((s) => s.key[1])}::text[], ${days.map((s) => s.key[2])}::text[],
        ${days.map((s) => s.key[3])}::text[], ${days.map((s) => s.key[4])}::text[], ${days.map((s) => s.spend)}::float8[],
        ${days.map((s) => s.requests)}::int8[], ${days.map((s) => s.prompt)}::int8[], ${days.map((s) => s.completion)}::int8[],
        ${days.map((s) => s.hits)}::int8[])
      ON CONFLICT ("day", "api_key", "team_id", "user_id", "model") DO UPDATE SET
        "spend" = d."spend" + excluded."spend", "requests" = d."requests" + excluded."requests",
        "prompt_tokens" = d."prompt_tokens" + excluded."prompt_tokens",
        "completion_tokens" = d."completion_tokens" + excluded."completion_tokens", "cache_hits" = d."cache_hits" + excluded."cache_hits"`;
  const customers = sumBy(
    rows.filter((r) => r.endUser),
    (r) => [dayOf(r), r.endUser ?? "", r.model] as const,
  );
  if (customers.length > 0)
    await tx.$executeRaw`
      INSERT INTO "tandem_daily_end_user_spend" AS d ("day", "end_user", "model", "spend", "requests", "prompt_tokens", "completion_tokens")
      SELECT * FROM unnest(${customers.map((s) => s.key[0])}::date[], ${customers.map((s) => s.key[1])}::text[],
        ${customers.map((s) => s.key[2])}::text[], ${customers.map((s) => s.spend)}::float8[], ${customers.map((s) => s.requests)}::int8[],
        ${customers.map((s) => s.prompt)}::int8[], ${customers.map((s) => s.completion)}::int8[])
      ON CONFLICT ("day", "end_user", "model") DO UPDATE SET
        "spend" = d."spend" + excluded."spend", "requests" = d."requests" + excluded."requests",
        "prompt_tokens" = d."prompt_tokens" + excluded."prompt_tokens", "completion_tokens" = d."completion_tokens" + excluded."completion_tokens"`;
}
