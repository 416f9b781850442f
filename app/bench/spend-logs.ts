// Spend rows at scale: ROWS (3 M by default; 30 M with ROWS=30000000) over 90
// days on the local primary/replica pair, seeded by SQL. Beside them, in the
// same run, the same rows in the previous release's layout (one unpartitioned
// table, five plain indexes) unless PREVIOUS=0. Reports:
//   - bytes per row, table + indexes: the seeded mix, and a plain completion
//     (no team, user or end user) as the proxy benchmark writes them;
//   - /spend/logs pages of 100 on the replica, by key, user, team, end user and
//     request id, over 1 day and 30 days: median ms of REPEATS runs, and the
//     previous layout's time for the same rows where its indexes serve them;
//   - one day's partition dropped: how long, and the replica's lag meanwhile;
//   - a sustained completion load (batches of 1,000 as the spend writer sends
//     them, interleaved with the previous layout): WAL bytes and writer CPU per
//     1,000 completions, and the replica's replay lag at the end.
// It drops what it made when done (the pair's data directories go with it).
//   npm run bench:spend-logs      (ROWS, DAYS, REPEATS, BATCHES, PREVIOUS=0 override)
import { performance } from "node:perf_hooks";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { startMigratedPair } from "../test-support/pair.js";
import { spendLogSql, type SpendLogFilter } from "../services/billing/spend-log-query.js";
import { hashKey } from "../services/access/key-hash.js";
import { DAY_MS, dayOf } from "../services/billing/spend-partitions.js";
import { fmt, median } from "./bench-support.js";

const ROWS = Number(process.env.ROWS ?? 3_000_000);
const DAYS = Number(process.env.DAYS ?? 90);
const REPEATS = Number(process.env.REPEATS ?? 9);
const BATCHES = Number(process.env.BATCHES ?? 20);
const PREVIOUS = process.env.PREVIOUS !== "0";
const KEYS = 1000;
const TEAMS = 100;
const USERS = 500;
const END_USERS = 5000;

const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
const dayStart = (back: number) => new Date(today.getTime() - back * DAY_MS);

/** CPU ticks of a Postgres server: its postmaster's children (backends, WAL writer, checkpointer, WAL sender). */
function serverCpuTicks(dataDir: string): number {
  const postmaster = readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0]!.trim();
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      if (fields[1] === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

// Row i of a day: key i % KEYS; 70% of keys in a team, half with a user; one request in five names an end user.
const ROW_SQL = `
  SELECT t, t + interval '800 ms', (i % 1000) / 1e6, 100 + i % 50, 20 + i % 30, 120 + i % 50 + i % 30,
         'chatcmpl-' || substr(md5($1::text || i), 1, 29),
         encode(sha256(('bench-key-' || (i % ${KEYS}))::bytea), 'hex'),
         'model-' || (i % 8),
         CASE WHEN i % ${KEYS} % 10 < 7 THEN 'team-' || (i % ${KEYS} % ${TEAMS}) END,
         CASE WHEN i % ${KEYS} % 2 = 0 THEN 'user-' || (i % ${KEYS} % ${USERS}) END,
         CASE WHEN i % 5 = 0 THEN 'customer-' || (i % ${END_USERS}) END,
         CASE WHEN i % 50 = 0 THEN '{"usage_estimated": true}'::jsonb END
  FROM generate_series(0, $2::int - 1) AS i, LATERAL (SELECT $1::timestamptz + (i * ($3::float8 / $2)) * interval '1 ms' AS t) AS x`;
const COLUMNS = `"start_time", "end_time", "spend", "prompt_tokens", "completion_tokens", "total_tokens", "request_id", "api_key", "model", "team_id", "user", "end_user", "metadata"`;

const pair = await startMigratedPair();
const primary = new pg.Client({ connectionString: pair.primary.adminUrl });
const replica = new pg.Client({ connectionString: pair.replica.adminUrl });
try {
  await primary.connect();
  await replica.connect();
  const perDay = Math.ceil(ROWS / DAYS);
  const seedStarted = performance.now();
  // Seeded rows are history: the daily aggregates are not the subject here.
  await primary.query(`SET "tandem.spend_history_copy" = 'on'`);
  for (let back = DAYS - 1; back >= 0; back--) {
    await primary.query(`SELECT "tandem_spend_rows_partition"($1::date)`, [dayOf(dayStart(back))]);
    await primary.query(`INSERT INTO "tandem_spend_rows" (${COLUMNS}) ${ROW_SQL}`, [dayStart(back), perDay, DAY_MS]);
  }
  if (PREVIOUS) {
    // The previous release's layout, built by its own migrations' definition (five plain indexes).
    await primary.query(`CREATE TABLE "bench_previous" (LIKE "tandem_spend_logs" INCLUDING ALL)`);
    await primary.query(
      `INSERT INTO "bench_previous" ("request_id", "api_key", "team_id", "user", "end_user", "model", "prompt_tokens",
         "completion_tokens", "total_tokens", "spend", "start_time", "end_time", "metadata")
       SELECT "request_id", "api_key", "team_id", "user", "end_user", "model", "prompt_tokens", "completion_tokens", "total_tokens",
         "spend", "start_time", "end_time", '{"call_type": "acompletion"}'::jsonb || coalesce("metadata", '{}') FROM "tandem_spend_rows"`,
    );
    await primary.query(`CREATE TRIGGER "bench_previous_daily_spend" AFTER INSERT ON "bench_previous" REFERENCING NEW TABLE AS "inserted"
       FOR EACH STATEMENT EXECUTE FUNCTION "tandem_add_to_daily_spend"()`);
  }
  await primary.query(`VACUUM ANALYZE "tandem_spend_rows"`);
  if (PREVIOUS) await primary.query(`VACUUM ANALYZE "bench_previous"`);
  await pair.waitForReplay(30 * 60_000);
  const seedS = (performance.now() - seedStarted) / 1000;
  const rows = Number((await primary.query(`SELECT count(*) AS n FROM "tandem_spend_rows"`)).rows[0].n);
  console.log(`spend-logs benchmark: ${rows.toLocaleString()} rows over ${DAYS} days seeded (and replayed) in ${fmt(seedS, 0)} s`);

  // Bytes per row.
  const size = async (relations: string) =>
    Number((await primary.query(`SELECT sum(pg_total_relation_size(r))::bigint AS b FROM (${relations}) AS x(r)`)).rows[0].b);
  const partitionsOf = `SELECT inhrelid FROM pg_inherits WHERE inhparent = '"tandem_spend_rows"'::regclass`;
  console.log("bytes per row (table + indexes)      this layout   previous");
  console.log(
    `  the seeded mix                      ${fmt((await size(partitionsOf)) / rows, 0).padStart(11)}   ${
      PREVIOUS ? fmt((await size(`SELECT '"bench_previous"'::regclass`)) / rows, 0).padStart(8) : "–"
    }`,
  );
  // A plain completion as the proxy benchmark writes it: one key, no team, user or end user.
  const plain = 200_000;
  const far = new Date("2100-01-01T00:00:00Z");
  await primary.query(`SELECT "tandem_spend_rows_partition"($1::date)`, [dayOf(far)]);
  const plainRows = `SELECT $1::timestamptz + i * interval '1 ms', $1::timestamptz + i * interval '1 ms', 0.0000123, 9, 12, 21,
       'chatcmpl-' || substr(md5(i::text), 1, 29), '${hashKey("sk-bench")}', 'bench-model', NULL, NULL, NULL, NULL
     FROM generate_series(1, ${plain}) AS i`;
  await primary.query(`INSERT INTO "tandem_spend_rows" (${COLUMNS}) ${plainRows}`, [far]);
  await primary.query(`CREATE TABLE "bench_previous_plain" (LIKE "tandem_spend_logs" INCLUDING ALL)`);
  await primary.query(
    `INSERT INTO "bench_previous_plain" ("start_time", "end_time", "spend", "prompt_tokens", "completion_tokens", "total_tokens",
       "request_id", "api_key", "model", "team_id", "user", "end_user", "metadata")
     SELECT "start_time", "end_time", "spend", "prompt_tokens", "completion_tokens", "total_tokens", "request_id", "api_key", "model",
       NULL, NULL, NULL, '{"call_type": "acompletion"}' FROM "tandem_spend_rows_21000101"`,
  );
  await primary.query(`VACUUM ANALYZE "tandem_spend_rows_21000101"`);
  await primary.query(`VACUUM ANALYZE "bench_previous_plain"`);
  console.log(
    `  a plain completion                  ${fmt((await size(`SELECT '"tandem_spend_rows_21000101"'::regclass`)) / plain, 0).padStart(11)}   ${fmt(
      (await size(`SELECT '"bench_previous_plain"'::regclass`)) / plain,
      0,
    ).padStart(8)}`,
  );
  await primary.query(`SELECT "tandem_spend_rows_drop"($1::date)`, [dayOf(far)]);
  await primary.query(`DROP TABLE "bench_previous_plain"`);

  // /spend/logs on the replica.
  const lastDay = { startTime: dayStart(1), endTime: dayStart(0) };
  const month = { startTime: dayStart(30), endTime: dayStart(0) };
  const someRequest = (await replica.query(`SELECT "request_id" FROM "tandem_spend_rows" WHERE "start_time" >= $1 LIMIT 1`, [dayStart(1)]))
    .rows[0].request_id as string;
  const filters: Array<{ name: string; filter: Partial<SpendLogFilter>; previous?: string }> = [
    { name: "by key", filter: { api_key: "bench-key-7" }, previous: `"api_key" = '${hashKey("bench-key-7")}'` },
    { name: "by user", filter: { user_id: "user-8" }, previous: `"user" = 'user-8'` },
    { name: "by team", filter: { team_id: "team-3" }, previous: `"team_id" = 'team-3'` },
    { name: "by end user", filter: { end_user: "customer-10" } },
    { name: "by request id", filter: { request_id: someRequest }, previous: `"request_id" = '${someRequest}'` },
    { name: "latest", filter: {}, previous: "true" },
  ];
  const time = async (sql: string, values: unknown[] = []) => {
    await replica.query(sql, values); // warm
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const started = performance.now();
      await replica.query(sql, values);
      times.push(performance.now() - started);
    }
    return median(times);
  };
  console.log("/spend/logs, a page of 100 on the replica (median ms)   1 day   30 days   previous 1 day   previous 30 days");
  for (const { name, filter, previous } of filters) {
    const ours = [];
    const theirs = [];
    for (const range of [lastDay, month]) {
      const sql = spendLogSql({ page: 1, page_size: 100, ...range, ...filter });
      ours.push(await time(sql.text, sql.values));
      theirs.push(
        PREVIOUS && previous
          ? await time(
              `SELECT * FROM "bench_previous" WHERE ${previous} AND "start_time" >= $1 AND "start_time" < $2 ORDER BY "start_time" DESC LIMIT 100`,
              [range.startTime, range.endTime],
            )
          : NaN,
      );
    }
    console.log(
      `  ${name.padEnd(54)} ${fmt(ours[0]!).padStart(5)}   ${fmt(ours[1]!).padStart(7)}   ${fmt(theirs[0]!).padStart(14)}   ${fmt(theirs[1]!).padStart(16)}`,
    );
  }

  // One day dropped, and what the replica saw meanwhile.
  let maxLagBytes = 0;
  let sampling = true;
  const sampler = (async () => {
    const watcher = new pg.Client({ connectionString: pair.primary.adminUrl });
    await watcher.connect();
    while (sampling) {
      const lag = await watcher.query(
        `SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::bigint AS b FROM pg_stat_replication`,
      );
      maxLagBytes = Math.max(maxLagBytes, Number(lag.rows[0].b));
      await new Promise((r) => setTimeout(r, 5));
    }
    await watcher.end();
  })();
  const dropStarted = performance.now();
  await primary.query(`SELECT "tandem_spend_rows_drop"($1::date)`, [dayOf(dayStart(DAYS - 1))]);
  const dropMs = performance.now() - dropStarted;
  const replayStarted = performance.now();
  await pair.waitForReplay(60_000);
  const replayMs = performance.now() - replayStarted;
  sampling = false;
  await sampler;
  console.log(
    `one day (${perDay.toLocaleString()} rows) dropped: ${fmt(dropMs)} ms on the writer, replayed ${fmt(replayMs)} ms later; replica lag at most ${maxLagBytes.toLocaleString()} bytes meanwhile`,
  );

  // A sustained completion load: batches of 1,000 rows, as the spend writer sends them, interleaved.
  const batchSql = (table: string) =>
    `INSERT INTO "${table}" (${COLUMNS})
     SELECT * FROM unnest($1::timestamptz[], $2::timestamptz[], $3::float8[], $4::int[], $5::int[], $6::int[], $7::text[], $8::text[],
       $9::text[], $10::text[], $11::text[], $12::text[], $13::jsonb[])
     ON CONFLICT DO NOTHING`;
  const batchOf = (n: number, tag: string) => {
    const now = Date.now();
    const at = Array.from({ length: 1000 }, (_, i) => new Date(now + i));
    const idx = Array.from({ length: 1000 }, (_, i) => i);
    return [
      at,
      at,
      idx.map((i) => (i % 1000) / 1e6),
      idx.map(() => 9),
      idx.map(() => 12),
      idx.map(() => 21),
      idx.map((i) => `chatcmpl-${tag}-${n}-${i}`.padEnd(38, "x")),
      idx.map((i) => hashKey(`bench-key-${i % KEYS}`)),
      idx.map((i) => `model-${i % 8}`),
      idx.map((i) => (i % 10 < 7 ? `team-${i % TEAMS}` : null)),
      idx.map((i) => (i % 2 === 0 ? `user-${i % USERS}` : null)),
      idx.map((i) => (i % 5 === 0 ? `customer-${i % END_USERS}` : null)),
      idx.map(() => null),
    ];
  };
  await primary.query(`RESET "tandem.spend_history_copy"`);
  await primary.query(`SELECT "tandem_spend_rows_partition"($1::date)`, [dayOf(new Date())]);
  const load = { ours: { wal: 0, ticks: 0 }, previous: { wal: 0, ticks: 0 } };
  const lsn = async () => (await primary.query(`SELECT pg_current_wal_lsn() AS l`)).rows[0].l as string;
  const walSince = async (from: string) =>
    Number((await primary.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d`, [from])).rows[0].d);
  for (let n = 0; n < BATCHES; n++) {
    for (const side of PREVIOUS ? (["ours", "previous"] as const) : (["ours"] as const)) {
      const values = batchOf(n, side);
      if (side === "previous") values[12] = values[12]!.map(() => '{"call_type": "acompletion"}');
      const from = await lsn();
      const ticks = serverCpuTicks(pair.primary.dataDir);
      await primary.query(batchSql(side === "ours" ? "tandem_spend_rows" : "bench_previous"), values);
      load[side].ticks += serverCpuTicks(pair.primary.dataDir) - ticks;
      load[side].wal += await walSince(from);
    }
  }
  const lagEnd = Number(
    (
      await primary.query(
        `SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::bigint AS b FROM pg_stat_replication`,
      )
    ).rows[0].b,
  );
  const perThousand = (side: keyof typeof load) =>
    `${fmt(load[side].wal / BATCHES / 1024, 0)} KiB WAL, ${fmt((load[side].ticks * 10) / BATCHES, 0)} ms writer CPU`;
  console.log(
    `per 1,000 completions (${BATCHES} batches of 1,000): this layout ${perThousand("ours")}${PREVIOUS ? `; previous ${perThousand("previous")}` : ""}`,
  );
  console.log(`replica replay lag right after the load: ${lagEnd.toLocaleString()} bytes`);
} finally {
  await primary.end().catch(() => undefined);
  await replica.end().catch(() => undefined);
  pair.stop();
}
