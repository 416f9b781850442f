// Spend rows by day: retention drops whole days and nothing else, one pod at a
// time; a retried batch across midnight counts once; /spend/logs reads only its
// days through an index on the replica; and a database of the previous release
// upgrades under a completion load with every row once.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openDatabase, type Database } from "../../db/database.js";
import { migrate, readMigrations } from "../../db/migrate.js";
import { loadConfig } from "../../config/env.js";
import { migrationsDir } from "../../paths.js";
import { configFor, startMigratedPair, type LocalPair } from "../../test-support/pair.js";
import { startLocalPair } from "../../dev/local-pair.js";
import { captureLogs } from "../../test-support/logs.js";
import { spendRecord } from "../../test-support/spend.js";
import { writeSpendBatch, type SpendRecord } from "./spend.js";
import { SpendPartitions, addDays, dayOf, partitionDays } from "./spend-partitions.js";
import { runSpendRetention } from "./spend-retention.js";
import { spendLogSql, type SpendLogFilter } from "./spend-log-query.js";

const NOW = new Date("2026-12-07T10:00:00Z");

describe("spend rows by day", () => {
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

  const record = (over: Partial<SpendRecord> = {}) => spendRecord({ keyed: false, startTime: NOW, endTime: NOW, ...over });
  const at = (day: string, time = "12:00:00") => new Date(`${day}T${time}Z`);
  const writer = () => database.db.$primary();
  const partitions = new SpendPartitions(writer);
  const scalar = async (sql: string, params: unknown[] = []) =>
    (await writer().$queryRawUnsafe<Array<{ v: unknown }>>(sql, ...params))[0]?.v;

  it("retention at 30 days drops exactly the days wholly older than 30 days, as tables, and leaves the daily aggregates", async () => {
    const days = Array.from({ length: 40 }, (_, i) => addDays(dayOf(NOW), -i));
    await writeSpendBatch(
      database.db,
      days.map((day) => record({ token: "ret-k", startTime: at(day), endTime: at(day) })),
      partitions,
    );
    const aggregatesBefore = await scalar(`SELECT sum(requests)::int AS v FROM tandem_daily_spend WHERE api_key = 'ret-k'`);
    const result = await runSpendRetention(writer(), 30, NOW);
    assert.equal(result.ran, true);
    // 2026-11-06 ends at 11-07 00:00, before NOW − 30 days (11-07 10:00): gone; 11-07 is kept.
    assert.deepEqual(result.dropped, days.filter((day) => day < "2026-11-07").sort());
    const remaining = await partitionDays(writer());
    assert.equal(remaining[0], "2026-11-07");
    assert.ok(remaining.includes(addDays(dayOf(NOW), 7)), "the coming week is made ahead");
    assert.equal(await scalar(`SELECT count(*)::int AS v FROM tandem_spend_rows WHERE api_key = 'ret-k'`), 31);
    assert.equal(await scalar(`SELECT sum(requests)::int AS v FROM tandem_daily_spend WHERE api_key = 'ret-k'`), aggregatesBefore);
    assert.equal(aggregatesBefore, 40);
    // Run again: nothing more to drop.
    assert.deepEqual((await runSpendRetention(writer(), 30, NOW)).dropped, []);
  });

  it("two pods never run retention at once: while one holds the lock the other skips and drops nothing", async () => {
    const old = addDays(dayOf(NOW), -100);
    await writeSpendBatch(database.db, [record({ token: "lock-k", startTime: at(old), endTime: at(old) })], new SpendPartitions(writer));
    const other = new pg.Client({ connectionString: pair.primary.url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT pg_advisory_xact_lock(hashtext('tandem_spend_retention'))");
      const [first, second] = await Promise.all([runSpendRetention(writer(), 30, NOW), runSpendRetention(writer(), 30, NOW)]);
      assert.deepEqual(
        [first, second],
        [
          { ran: false, dropped: [] },
          { ran: false, dropped: [] },
        ],
      );
      assert.ok((await partitionDays(writer())).includes(old));
      await other.query("COMMIT");
      const runs = await Promise.all([runSpendRetention(writer(), 30, NOW), runSpendRetention(writer(), 30, NOW)]);
      assert.deepEqual(runs.map((r) => r.dropped).flat(), [old], "the day is dropped once, by one of them");
    } finally {
      await other.end();
    }
  });

  it("a batch across midnight written twice (its commit's outcome unknown) is in both days' partitions once, counted once", async () => {
    const batch = [
      record({ token: "mid-k", startTime: new Date("2026-12-05T23:59:59.999Z") }),
      record({ token: "mid-k", startTime: new Date("2026-12-06T00:00:00.000Z") }),
    ];
    await writeSpendBatch(database.db, batch, partitions);
    await writeSpendBatch(database.db, batch, new SpendPartitions(writer));
    const rows = await writer().$queryRaw<Array<{ partition: string; n: number }>>`
      SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM tandem_spend_rows WHERE api_key = 'mid-k' GROUP BY 1 ORDER BY 1`;
    assert.deepEqual(rows, [
      { partition: "tandem_spend_rows_20261205", n: 1 },
      { partition: "tandem_spend_rows_20261206", n: 1 },
    ]);
    assert.equal(await scalar(`SELECT sum(requests)::int AS v FROM tandem_daily_spend WHERE api_key = 'mid-k'`), 2);
  });

  it("a row for a day retention already dropped (spend held through an outage) gets its day back and is written", async () => {
    const gone = "2026-10-01";
    await runSpendRetention(writer(), 30, NOW);
    assert.ok(!(await partitionDays(writer())).includes(gone));
    await writeSpendBatch(database.db, [record({ token: "late-k", startTime: at(gone) })], partitions);
    assert.equal(await scalar(`SELECT count(*)::int AS v FROM tandem_spend_rows WHERE api_key = 'late-k'`), 1);
  });

  describe("/spend/logs reads its days through an index, on the replica", () => {
    before(async () => {
      // Three days of 20,000 rows: 200 keys (stored as their hashes, as tandem does), 50 teams, 100 users, 500 end users.
      const admin = new pg.Client({ connectionString: pair.primary.adminUrl });
      await admin.connect();
      try {
        for (const day of ["2026-12-04", "2026-12-05", "2026-12-06"]) {
          await admin.query(`SELECT tandem_spend_rows_partition($1::date)`, [day]);
          await admin.query(
            `INSERT INTO tandem_spend_rows (start_time, end_time, spend, request_id, api_key, model, team_id, "user", end_user)
             SELECT t, t, 0.001, 'q-' || $1 || '-' || i, encode(sha256(('key-' || (i % 200))::bytea), 'hex'), 'm', 'team-' || (i % 50), 'user-' || (i % 100), 'eu-' || (i % 500)
             FROM generate_series(1, 20000) AS i, LATERAL (SELECT $1::date + (i * interval '4 seconds') AS t) AS x`,
            [day],
          );
        }
        await admin.query("ANALYZE tandem_spend_rows");
      } finally {
        await admin.end();
      }
      await pair.waitForReplay();
    });

    const oneDay = { startTime: new Date("2026-12-05T00:00:00Z"), endTime: new Date("2026-12-06T00:00:00Z") };
    const cases: Array<{ name: string; filter: Partial<SpendLogFilter>; index: RegExp }> = [
      { name: "by key", filter: { api_key: "key-7" }, index: /Index Cond: \(\(hashtextextended\(api_key/ },
      { name: "by user", filter: { user_id: "user-7" }, index: /Index Cond: \(\(hashtextextended\("user"/ },
      { name: "by team", filter: { team_id: "team-7" }, index: /Index Cond: \(\(hashtextextended\(team_id/ },
      { name: "by end user", filter: { end_user: "eu-7" }, index: /Index Cond: \(\(hashtextextended\(end_user/ },
      { name: "by request id", filter: { request_id: "q-2026-12-05-77" }, index: /Index Cond: \(hashtextextended\(request_id/ },
      { name: "the latest", filter: {}, index: /Index Scan Backward using tandem_spend_rows_20261205_start_time_hashtextextended_idx/ },
    ];
    for (const { name, filter, index } of cases) {
      it(`${name}: an index scan, only the day's partition, on the replica`, async () => {
        const sql = spendLogSql({ page: 1, page_size: 100, ...oneDay, ...filter, api_key: filter.api_key }, NOW);
        // The routed client sends raw reads to the reader; its plan is the replica's.
        const plan = (await database.db.$queryRaw<Array<{ "QUERY PLAN": string }>>`EXPLAIN ${sql}`).map((r) => r["QUERY PLAN"]).join("\n");
        assert.doesNotMatch(plan, /Seq Scan/, plan);
        assert.match(plan, /Index Scan|Bitmap Index Scan|Index Only Scan/, plan);
        assert.match(plan, index, plan);
        const scanned = new Set(plan.match(/tandem_spend_rows_\d{8}/g));
        assert.deepEqual([...scanned], ["tandem_spend_rows_20261205"], plan);
      });
    }

    it("over many days a page reads the partitions' indexes in time order and stops at the page: no sort of every match", async () => {
      // The values' recheck sits outside the page, so the planner estimates each filter by its hash
      // index alone; with it inside, it expected one row a partition and sorted all of the range's.
      const threeDays = { startTime: new Date("2026-12-04T00:00:00Z"), endTime: new Date("2026-12-07T00:00:00Z") };
      for (const filter of [{ user_id: "user-7" }, { end_user: "eu-7" }, { api_key: "key-7" }, { team_id: "team-7" }]) {
        const sql = spendLogSql({ page: 1, page_size: 100, ...threeDays, ...filter }, NOW);
        const plan = (await database.db.$queryRaw<Array<{ "QUERY PLAN": string }>>`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`)
          .map((r) => r["QUERY PLAN"])
          .join("\n");
        assert.doesNotMatch(plan, /Bitmap Heap Scan/, plan);
        assert.match(
          plan,
          /Limit[\s\S]*Incremental Sort[\s\S]*Presorted Key: tandem_spend_rows\.start_time[\s\S]*Index Scan Backward/,
          plan,
        );
        // Rows the scans returned: about the page, never the range's thousands of matches.
        const scanned = [...plan.matchAll(/Index Scan Backward[^\n]*actual[^\n]*rows=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        assert.ok(scanned <= 110, `${scanned} rows scanned for a page of 100\n${plan}`);
      }
    });

    it("paging newest first: the pages of a key's day are its rows, once each, in order", async () => {
      const pages = [];
      for (let page = 1; page <= 2; page++) {
        pages.push(
          ...(await database.db.$queryRaw<Array<{ request_id: string; start_time: Date }>>(
            spendLogSql({ page, page_size: 60, api_key: "key-7", ...oneDay }, NOW),
          )),
        );
      }
      assert.equal(pages.length, 100, "20,000 rows over 200 keys: 100 for key-7 that day");
      assert.equal(new Set(pages.map((r) => r.request_id)).size, 100);
      const times = pages.map((r) => r.start_time.getTime());
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
    });
  });
});

describe("upgrading a database of the previous release, with history, under a completion load", () => {
  const logs = captureLogs();
  let pair: LocalPair;

  before(async () => {
    pair = await startLocalPair();
  });
  after(async () => {
    pair?.stop();
  });

  it("every spend row once in the partitioned table, the aggregates equal to the rows, the previous release's key spend counted once", async () => {
    const writerConfig = loadConfig({ DATABASE_URL: pair.primary.url }, "migrate").writer;
    const all = readMigrations(migrationsDir).map((m) => m.name);
    const previous = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    for (const name of all.slice(
      0,
      all.findIndex((n) => n.endsWith("_spend_rows_by_day")),
    ))
      cpSync(join(migrationsDir, name), join(previous, name), { recursive: true });
    await migrate(writerConfig, { dir: previous, log: logs.logger });

    const client = new pg.Client({ connectionString: pair.primary.url });
    await client.connect();
    await client.query(`INSERT INTO tandem_verification_token (token, key_name) VALUES ('old-k', 'sk-...old')`);
    // 30,000 rows of history over 10 days, written as the previous release did.
    await client.query(
      `INSERT INTO tandem_spend_logs (request_id, api_key, model, spend, start_time, end_time, metadata)
       SELECT 'h-' || i, 'old-k', 'm', 0.001, t, t, '{"call_type":"acompletion"}' FROM generate_series(1, 30000) AS i,
       LATERAL (SELECT timestamptz '2026-11-20' + i * interval '29 seconds' AS t) AS x`,
    );
    await client.query(`UPDATE tandem_verification_token SET spend = 30 WHERE token = 'old-k'`);

    // A pod of the previous release keeps completing requests through the upgrade: its own insert,
    // and its key's spend grown by what RETURNING lists. Every third batch is sent twice (an unknown commit).
    let running = true;
    let sent = 0;
    const oldPod = (async () => {
      const pod = new pg.Client({ connectionString: pair.primary.url });
      await pod.connect();
      try {
        for (let batch = 0; running || batch < 5; batch++) {
          const ids = Array.from({ length: 20 }, (_, i) => `live-${batch}-${i}`);
          for (let attempt = 0; attempt < (batch % 3 === 0 ? 2 : 1); attempt++) {
            await pod.query("BEGIN");
            const { rows } = await pod.query<{ request_id: string }>(
              `INSERT INTO tandem_spend_logs (request_id, api_key, model, spend, start_time, end_time, metadata)
               SELECT id, 'old-k', 'm', 0.001, $2::timestamptz, $2::timestamptz, '{"call_type":"acompletion"}' FROM unnest($1::text[]) AS id
               ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
              [ids, new Date(Date.UTC(2026, 10, 30, 0, 0, batch))],
            );
            await pod.query(`UPDATE tandem_verification_token SET spend = spend + $1 WHERE token = 'old-k'`, [rows.length * 0.001]);
            await pod.query("COMMIT");
          }
          sent += ids.length;
        }
      } finally {
        await pod.end();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const result = await migrate(writerConfig, { dir: migrationsDir, log: logs.logger });
    assert.ok(result.spendRowsCopied >= 30_000, `copied ${result.spendRowsCopied}`);
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await oldPod;

    try {
      const one = async (sql: string) => (await client.query<{ v: number }>(sql)).rows[0]!.v;
      assert.equal(await one(`SELECT count(*)::int AS v FROM tandem_spend_rows WHERE request_id LIKE 'h-%'`), 30_000, "history, once");
      assert.equal(await one(`SELECT count(*)::int AS v FROM tandem_spend_rows WHERE request_id LIKE 'live-%'`), sent, "live rows, once");
      assert.equal(
        await one(`SELECT count(*)::int AS v FROM (SELECT request_id FROM tandem_spend_rows GROUP BY 1 HAVING count(*) > 1) AS d`),
        0,
        "no row twice",
      );
      assert.equal(await one(`SELECT count(*)::int AS v FROM tandem_spend_logs WHERE request_id LIKE 'h-%'`), 0, "the old table emptied");
      assert.equal(
        await one(`SELECT sum(requests)::int AS v FROM tandem_daily_spend WHERE api_key = 'old-k'`),
        30_000 + sent,
        "aggregates: every row once",
      );
      const spend = await one(`SELECT round(spend::numeric, 6)::float AS v FROM tandem_verification_token WHERE token = 'old-k'`);
      assert.equal(spend, Math.round((30 + sent * 0.001) * 1e6) / 1e6, "the old pod's key spend grew once per row");
    } finally {
      await client.end();
      rmSync(previous, { recursive: true, force: true });
    }
  });
});
