// The daily aggregates are the spend rows summed, exactly: whatever the
// batches, a retried batch counts once, and an estimated (cut) stream counts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { openDatabase, type Database } from "../../db/database.js";
import { configFor, startMigratedPair, type LocalPair } from "../../test-support/pair.js";
import { captureLogs } from "../../test-support/logs.js";
import { spendRecord } from "../../test-support/spend.js";
import { writeSpendBatch } from "./spend.js";

describe("daily spend aggregates", () => {
  const logs = captureLogs();
  let pair: LocalPair;
  let database: Database;

  before(async () => {
    pair = await startMigratedPair();
    database = await openDatabase(configFor(pair), logs.logger);
  });
  after(async () => {
    await database?.close();
    pair?.stop();
  });

  const record = spendRecord;

  type Sum = { g: string; spend: number; n: bigint; p: bigint; c: bigint };
  const round = (xs: Sum[]) =>
    xs.map((x) => ({ g: x.g, spend: Math.round(x.spend * 1e9), n: Number(x.n), p: Number(x.p), c: Number(x.c) }));

  /** Σ of the spend rows and of the aggregates, grouped alike, for what a test wrote (its keys start with `prefix`). */
  async function totals(prefix: string) {
    const [rows, days] = await Promise.all([
      database.db.$primary().$queryRaw<Sum[]>`
        SELECT concat_ws('|', (start_time AT TIME ZONE 'UTC')::date, api_key, coalesce(team_id, ''), coalesce("user", ''), model) AS g,
               sum(spend) AS spend, count(*) AS n, sum(prompt_tokens) AS p, sum(completion_tokens) AS c
        FROM tandem_spend_rows WHERE api_key LIKE ${`${prefix}%`} GROUP BY 1 ORDER BY 1`,
      database.db.$primary().$queryRaw<Sum[]>`
        SELECT concat_ws('|', day, api_key, team_id, user_id, model) AS g, spend, requests AS n, prompt_tokens AS p, completion_tokens AS c
        FROM tandem_daily_spend WHERE api_key LIKE ${`${prefix}%`} ORDER BY 1`,
    ]);
    return { rows: round(rows), days: round(days) };
  }

  /** The same per day × end user × model, for end users whose names start with `prefix`. */
  async function customerTotals(prefix: string) {
    const [rows, days] = await Promise.all([
      database.db.$primary().$queryRaw<Sum[]>`
        SELECT concat_ws('|', (start_time AT TIME ZONE 'UTC')::date, end_user, model) AS g,
               sum(spend) AS spend, count(*) AS n, sum(prompt_tokens) AS p, sum(completion_tokens) AS c
        FROM tandem_spend_rows WHERE end_user LIKE ${`${prefix}%`} GROUP BY 1 ORDER BY 1`,
      database.db.$primary().$queryRaw<Sum[]>`
        SELECT concat_ws('|', day, end_user, model) AS g, spend, requests AS n, prompt_tokens AS p, completion_tokens AS c
        FROM tandem_daily_end_user_spend WHERE end_user LIKE ${`${prefix}%`} ORDER BY 1`,
    ]);
    return { rows: round(rows), days: round(days) };
  }

  it("for random batches over days, keys, teams, users, end users and models, the aggregates equal the rows summed", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc.record({
              day: fc.integer({ min: 1, max: 3 }),
              key: fc.constantFrom("a", "b"),
              team: fc.constantFrom(null, "t1", "t2"),
              user: fc.constantFrom(null, "u1"),
              endUser: fc.constantFrom(undefined, "c1", "c2"),
              model: fc.constantFrom("m1", "m2"),
              cost: fc.double({ min: 0, max: 1, noNaN: true }),
              prompt: fc.nat(1000),
              completion: fc.nat(1000),
            }),
            { minLength: 1, maxLength: 20 },
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (batches) => {
          const prefix = `prop${++run}-`;
          for (const batch of batches)
            await writeSpendBatch(
              database.db,
              batch.map((r) =>
                record({
                  token: `${prefix}${r.key}`,
                  teamId: r.team,
                  userId: r.user,
                  endUser: r.endUser && `${prefix}${r.endUser}`,
                  model: r.model,
                  cost: r.cost,
                  usage: { prompt_tokens: r.prompt, completion_tokens: r.completion },
                  startTime: new Date(`2026-11-0${r.day}T23:59:59Z`),
                }),
              ),
            );
          const { rows, days } = await totals(prefix);
          assert.deepEqual(days, rows);
          const customers = await customerTotals(prefix);
          assert.deepEqual(customers.days, customers.rows);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("a batch written again (its commit's outcome unknown) counts once", async () => {
    const batch = [record({ token: "retry-k", endUser: "retry-c" }), record({ token: "retry-k", cost: 0.25, endUser: "retry-c" })];
    await writeSpendBatch(database.db, batch);
    await writeSpendBatch(database.db, batch);
    const { rows, days } = await totals("retry-");
    assert.deepEqual(days, rows);
    assert.equal(days[0]?.n, 2);
    const customers = await customerTotals("retry-");
    assert.deepEqual(customers.days, customers.rows);
    assert.equal(customers.days[0]?.n, 2);
  });

  it("an estimated (cut) stream's spend is in its day", async () => {
    await writeSpendBatch(database.db, [record({ token: "cut-k", estimated: true, cost: 0.125 })]);
    const { days } = await totals("cut-");
    assert.equal(days[0]?.spend, 0.125 * 1e9);
  });

  it("end users that reach the database as the same text (lone surrogates become U+FFFD) are summed, never a failed batch", async () => {
    const batch = [record({ token: "sur-k", endUser: "sur-\ud800" }), record({ token: "sur-k", endUser: "sur-\ud801" })];
    await writeSpendBatch(database.db, batch);
    const customers = await customerTotals("sur-");
    assert.deepEqual(customers.days, customers.rows);
    assert.equal(customers.days[0]?.n, 2);
  });
});
