// How fast are the Usage page and the spend reports over a big history? 5
// million spend rows over 90 days, seeded with one SQL statement (the spend
// table's trigger sums them into the daily aggregates as it runs), then each
// analytics endpoint asked for 90 days through tandem's HTTP API (on the
// replica). The baseline, in the same run on the same replica: the same
// answer summed from the spend rows themselves — what a proxy without the
// aggregates has to do. Reported as milliseconds and as ratios to it.
//   npm run bench:analytics      (ROWS, KEYS, REPEATS override)
import { performance } from "node:perf_hooks";
import { cpus, totalmem } from "node:os";
import pg from "pg";
import { startMigratedPair } from "../test-support/pair.js";
import { startProxy } from "../test-support/proxy.js";
import { median } from "./bench-support.js";

const ROWS = Number(process.env.ROWS ?? 5_000_000);
const KEYS = Number(process.env.KEYS ?? 200);
const TEAMS = 20;
const USERS = 50;
const MODELS = 8;
const DAYS = 90;
const REPEATS = Number(process.env.REPEATS ?? 15);

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] ?? NaN;

async function timed(action: () => Promise<unknown>): Promise<number[]> {
  await action(); // warm: plans cached, pages in memory
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return times;
}

const pair = await startMigratedPair();
const primary = new pg.Client({ connectionString: pair.primary.adminUrl });
const replica = new pg.Client({ connectionString: pair.replicas[0]!.adminUrl });
let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
try {
  await primary.connect();
  await replica.connect();
  const seeded = performance.now();
  // One statement: row i belongs to key i % KEYS (its team and user follow the key), calls every
  // model in turn, names one of 100 end users, and falls in one of the last DAYS × 24 hours.
  await primary.query(
    `SELECT "tandem_spend_rows_partition"((now() AT TIME ZONE 'UTC')::date - d) FROM generate_series(0, $1::int + 1) AS d`,
    [DAYS],
  );
  await primary.query(
    `INSERT INTO "tandem_spend_rows" ("request_id", "api_key", "team_id", "user", "end_user", "model", "prompt_tokens",
       "completion_tokens", "total_tokens", "spend", "start_time", "end_time", "metadata")
     SELECT 'bench-' || i, 'bench-key-' || (i % $2), 'bench-team-' || (i % $2 % $3), 'bench-user-' || (i % $2 % $4),
       'customer-' || (i % 100), 'model-' || (i / $2 % $5), 100 + i % 50, 20 + i % 30, 120 + i % 50 + i % 30,
       (i % 1000) / 1e6, now() - (i / ($2 * $5) % ($6 * 24)) * interval '1 hour', now() - (i / ($2 * $5) % ($6 * 24)) * interval '1 hour', NULL
     FROM generate_series(1, $1::int) AS i`,
    [ROWS, KEYS, TEAMS, USERS, MODELS, DAYS],
  );
  const inserted = performance.now();
  await primary.query(
    `INSERT INTO "tandem_team" ("team_id", "team_alias") SELECT 'bench-team-' || t, 'Team ' || t FROM generate_series(0, $1::int - 1) AS t`,
    [TEAMS],
  );
  await primary.query(
    `INSERT INTO "tandem_verification_token" ("token", "key_name", "key_alias", "team_id")
     SELECT 'bench-key-' || k, 'sk-...' || k, 'key ' || k, 'bench-team-' || (k % $2) FROM generate_series(0, $1::int - 1) AS k`,
    [KEYS, TEAMS],
  );
  await primary.query("VACUUM ANALYZE");
  const aggregated = performance.now();
  await pair.waitForReplay();
  const [{ count: aggregateRows }] = (await replica.query<{ count: string }>(`SELECT count(*) FROM "tandem_daily_spend"`)).rows as [
    { count: string },
  ];

  proxy = await startProxy({}, { pair });
  const start = new Date(Date.now() - (DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const end = new Date().toISOString().slice(0, 10);
  const range = `start_date=${start}&end_date=${end}`;
  const http = (path: string) => async () => {
    const res = await proxy!.admin(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
    return res.json;
  };
  // The same sums from the spend rows, straight on the replica (no HTTP, no JSON): the baseline.
  const fromRows = (sql: string, params: unknown[]) => async () => replica.query(sql, params);
  const window = `"start_time" >= $1::date AND "start_time" < $2::date + 1`;
  const cases: Array<{ name: string; tandem: () => Promise<unknown>; baseline: () => Promise<unknown> }> = [
    {
      name: "/user/daily/activity (all users, 90 days, page of 90)",
      tandem: http(`/user/daily/activity?${range}&page_size=100`),
      baseline: fromRows(
        `SELECT ("start_time" AT TIME ZONE 'UTC')::date AS day, "model", "api_key", "team_id", sum("spend"), count(*), sum("prompt_tokens"), sum("completion_tokens")
         FROM "tandem_spend_rows" WHERE ${window}
         GROUP BY GROUPING SETS ((1), (1, "model"), (1, "api_key"), (1, "team_id"))`,
        [start, end],
      ),
    },
    {
      name: "/team/daily/activity (one team, 90 days)",
      tandem: http(`/team/daily/activity?${range}&team_ids=bench-team-3&page_size=100`),
      baseline: fromRows(
        `SELECT ("start_time" AT TIME ZONE 'UTC')::date AS day, "model", "api_key", sum("spend"), count(*)
         FROM "tandem_spend_rows" WHERE ${window} AND "team_id" = 'bench-team-3'
         GROUP BY GROUPING SETS ((1), (1, "model"), (1, "api_key"))`,
        [start, end],
      ),
    },
    {
      name: "/global/spend/report?group_by=customer (90 days)",
      tandem: http(`/global/spend/report?${range}&group_by=customer`),
      baseline: fromRows(
        `SELECT ("start_time" AT TIME ZONE 'UTC')::date, "end_user", "model", sum("spend"), sum("total_tokens")
         FROM "tandem_spend_rows" WHERE ${window} GROUP BY 1, 2, 3`,
        [start, end],
      ),
    },
    {
      name: "/global/spend/keys?limit=10 (90 days)",
      tandem: http(`/global/spend/keys?limit=10&${range}`),
      baseline: fromRows(
        `SELECT "api_key", sum("spend") AS s FROM "tandem_spend_rows" WHERE ${window} GROUP BY 1 ORDER BY s DESC LIMIT 10`,
        [start, end],
      ),
    },
    {
      name: "/global/spend/models?limit=10 (90 days)",
      tandem: http(`/global/spend/models?limit=10&${range}`),
      baseline: fromRows(`SELECT "model", sum("spend") AS s FROM "tandem_spend_rows" WHERE ${window} GROUP BY 1 ORDER BY s DESC LIMIT 10`, [
        start,
        end,
      ]),
    },
  ];

  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `seeded ${ROWS.toLocaleString("en")} spend rows in ${((inserted - seeded) / 1000).toFixed(1)} s (one statement; ` +
      `its trigger made ${Number(aggregateRows).toLocaleString("en")} daily aggregate rows), names and VACUUM ANALYZE ${((aggregated - inserted) / 1000).toFixed(1)} s`,
  );
  console.log("| endpoint | tandem median ms | tandem p95 ms | from spend rows median ms | ratio |");
  console.log("|---|---:|---:|---:|---:|");
  for (const c of cases) {
    const ours = await timed(c.tandem);
    const theirs = await timed(c.baseline);
    console.log(
      `| ${c.name} | ${median(ours).toFixed(1)} | ${p95(ours).toFixed(1)} | ${median(theirs).toFixed(1)} | ×${(median(theirs) / median(ours)).toFixed(1)} faster |`,
    );
  }
} finally {
  await proxy?.stop();
  await primary.end().catch(() => undefined);
  await replica.end().catch(() => undefined);
  pair.stop();
}
