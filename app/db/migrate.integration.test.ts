// tandem's migrator: prisma/migrations applied to the writer, in order, once,
// under Prisma's advisory lock, recorded the way `prisma migrate deploy` does.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migrate, MigrationError, readMigrations } from "./migrate.js";
import { loadConfig } from "../config/env.js";
import { appRoot, migrationsDir } from "../paths.js";
import { spawn } from "node:child_process";
import { startLocalPair, type LocalPair } from "../dev/local-pair.js";
import { captureLogs } from "../test-support/logs.js";
import { assertNoSecrets } from "../test-support/pair.js";

describe("migrations", () => {
  let pair: LocalPair;
  const logs = captureLogs();
  const writer = () => loadConfig({ DATABASE_URL: pair.primary.url }, "migrate").writer;
  const query = async <T extends pg.QueryResultRow>(url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };

  before(async () => {
    pair = await startLocalPair();
  });
  after(async () => {
    await logs.flush();
    assertNoSecrets(logs.lines, [pair?.appPassword]);
    pair?.stop();
  });

  it("applies every migration to the writer and records it as prisma migrate deploy does", async () => {
    const result = await migrate(writer(), { dir: migrationsDir, log: logs.logger });
    const expected = readMigrations(migrationsDir);
    assert.deepEqual(
      result.applied,
      expected.map((m) => m.name),
    );
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
      rolled_back_at: Date | null;
    }>(
      pair.primary.url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    assert.deepEqual(
      rows.map((r) => [r.migration_name, r.checksum, r.finished_at !== null, r.applied_steps_count, r.rolled_back_at]),
      expected.map((m) => [m.name, m.checksum, true, 1, null]),
    );
    const tables = await query<{ tablename: string }>(
      pair.primary.url,
      // A day's spend partition is a table too; they are counted apart.
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename !~ '^tandem_spend_rows_[0-9]{8}$' ORDER BY 1`,
    );
    assert.deepEqual(
      tables.map((t) => t.tablename),
      [
        "_prisma_migrations",
        "tandem_budget",
        "tandem_daily_end_user_spend",
        "tandem_daily_spend",
        "tandem_end_user",
        "tandem_organization",
        "tandem_organization_membership",
        "tandem_proxy_model",
        "tandem_spend_logs",
        "tandem_spend_rows",
        "tandem_team",
        "tandem_team_membership",
        "tandem_user",
        "tandem_verification_token",
      ],
    );
  });

  it("applying twice is a no-op", async () => {
    const before = await query(pair.primary.url, `SELECT * FROM "_prisma_migrations"`);
    const result = await migrate(writer(), { dir: migrationsDir, log: logs.logger });
    assert.deepEqual(result.applied, []);
    assert.equal(result.alreadyApplied.length, readMigrations(migrationsDir).length);
    assert.deepEqual(await query(pair.primary.url, `SELECT * FROM "_prisma_migrations"`), before);
  });

  it("two concurrent migrators apply each migration exactly once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    try {
      cpSync(migrationsDir, dir, { recursive: true });
      // A slow migration widens the race window.
      mkdirSync(join(dir, "20990101000000_slow"));
      writeFileSync(
        join(dir, "20990101000000_slow", "migration.sql"),
        `SELECT pg_sleep(0.5);\nCREATE TABLE "concurrency_probe" (id INT);\n`,
      );
      const [a, b] = await Promise.all([migrate(writer(), { dir, log: logs.logger }), migrate(writer(), { dir, log: logs.logger })]);
      assert.deepEqual([...a.applied, ...b.applied], ["20990101000000_slow"], "exactly one of them applied it");
      const rows = await query<{ n: string }>(
        pair.primary.url,
        `SELECT count(*) AS n FROM "_prisma_migrations" WHERE migration_name = '20990101000000_slow'`,
      );
      assert.equal(rows[0]?.n, "1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a failing migration stops with an error naming it, keeps earlier ones, and keeps nothing of itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    try {
      cpSync(migrationsDir, dir, { recursive: true });
      mkdirSync(join(dir, "20990201000000_good"));
      writeFileSync(join(dir, "20990201000000_good", "migration.sql"), `CREATE TABLE "good_one" (id INT);\n`);
      mkdirSync(join(dir, "20990301000000_broken"));
      writeFileSync(
        join(dir, "20990301000000_broken", "migration.sql"),
        `CREATE TABLE "half_done" (id INT);\nALTER TABLE "no_such_table" ADD COLUMN x INT;\n`,
      );
      await assert.rejects(migrate(writer(), { dir, log: logs.logger }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /migration 20990301000000_broken failed: relation "no_such_table" does not exist \(SQLSTATE 42P01\)/);
        return true;
      });
      const tables = await query<{ tablename: string }>(
        pair.primary.url,
        `SELECT tablename FROM pg_tables WHERE tablename IN ('good_one', 'half_done')`,
      );
      assert.deepEqual(
        tables.map((t) => t.tablename),
        ["good_one"],
      );
      const broken = await query<{ rolled_back_at: Date | null; logs: string }>(
        pair.primary.url,
        `SELECT rolled_back_at, logs FROM "_prisma_migrations" WHERE migration_name = '20990301000000_broken'`,
      );
      assert.ok(broken[0]?.rolled_back_at, "recorded as rolled back, so a fixed version is applied next time");

      writeFileSync(join(dir, "20990301000000_broken", "migration.sql"), `CREATE TABLE "half_done" (id INT);\n`);
      const retry = await migrate(writer(), { dir, log: logs.logger });
      assert.deepEqual(retry.applied, ["20990301000000_broken"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a migrator killed (SIGKILL) in the middle of a migration leaves nothing half-done: the next run completes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    try {
      cpSync(migrationsDir, dir, { recursive: true });
      mkdirSync(join(dir, "20990401000000_slow"));
      writeFileSync(join(dir, "20990401000000_slow", "migration.sql"), `CREATE TABLE "slow_one" (id INT);\nSELECT pg_sleep(120);\n`);
      const script = join(dir, "run.mts"); // an ES module wherever the temp dir is
      writeFileSync(
        script,
        [
          `import { migrate } from ${JSON.stringify(join(appRoot, "app/db/migrate.ts"))};`,
          `import { loadConfig } from ${JSON.stringify(join(appRoot, "app/config/env.ts"))};`,
          `import { createLogger } from ${JSON.stringify(join(appRoot, "app/observability/logger.ts"))};`,
          `await migrate(loadConfig({ DATABASE_URL: ${JSON.stringify(pair.primary.url)} }, "migrate").writer, { dir: ${JSON.stringify(dir)}, log: createLogger("silent") });`,
        ].join("\n"),
      );
      const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: appRoot, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      let exitCode: number | null | undefined;
      const exited = new Promise<void>((resolve) =>
        child.once("exit", (code) => {
          exitCode = code;
          resolve();
        }),
      );
      // Killed while the migration's statement runs: its transaction is open.
      const deadline = Date.now() + 60_000;
      while (
        (
          await query<{ n: string }>(
            pair.primary.adminUrl,
            `SELECT count(*)::text AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()`,
          )
        )[0]?.n === "0"
      ) {
        assert.ok(
          Date.now() < deadline && exitCode === undefined,
          `the slow migration never started (migrator exit code ${exitCode}): ${stderr}`,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGKILL");
      await exited;
      // The server ends the dead client's session (and rolls it back) once it notices the closed socket.
      await query(
        pair.primary.adminUrl,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()`,
      );

      const unfinished = await query<{ n: string }>(
        pair.primary.url,
        `SELECT count(*)::text AS n FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL`,
      );
      assert.equal(unfinished[0]?.n, "0", "no unfinished record survives the kill");

      writeFileSync(join(dir, "20990401000000_slow", "migration.sql"), `CREATE TABLE "slow_one" (id INT);\n`);
      const next = await migrate(writer(), { dir, log: logs.logger });
      assert.deepEqual(next.applied, ["20990401000000_slow"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a table locked by someone else fails the migration clearly after the lock timeout instead of waiting forever", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    const holder = new pg.Client({ connectionString: pair.primary.url }); // the table's owner, as the app
    await holder.connect();
    try {
      cpSync(migrationsDir, dir, { recursive: true });
      await holder.query(`CREATE TABLE IF NOT EXISTS "busy_table" (id INT)`);
      await holder.query("BEGIN");
      await holder.query(`LOCK TABLE "busy_table" IN ACCESS EXCLUSIVE MODE`);
      mkdirSync(join(dir, "20990501000000_alter_busy"));
      writeFileSync(join(dir, "20990501000000_alter_busy", "migration.sql"), `ALTER TABLE "busy_table" ADD COLUMN x INT;\n`);
      await assert.rejects(migrate(writer(), { dir, log: logs.logger, lockTimeoutMs: 500 }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /20990501000000_alter_busy failed: .*lock timeout.*\(SQLSTATE 55P03\).*waited 500 ms for a lock/);
        return true;
      });
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      await holder.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the replica receives the schema by replication, never from the migrator", async () => {
    await pair.waitForReplay();
    const rows = await query<{ n: string }>(pair.replica.adminUrl, `SELECT count(*) AS n FROM "_prisma_migrations"`);
    assert.ok(Number(rows[0]?.n) >= 1);
    const direct = loadConfig({ DATABASE_URL: pair.replica.url }, "migrate").writer;
    const dir = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    try {
      mkdirSync(join(dir, "20990401000000_x"));
      writeFileSync(join(dir, "20990401000000_x", "migration.sql"), `CREATE TABLE "x" (id INT);\n`);
      await assert.rejects(migrate(direct, { dir, log: logs.logger }), /read-only transaction/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the daily spend migration on a database with spend history", () => {
  let pair: LocalPair;
  const logs = captureLogs();

  before(async () => {
    pair = await startLocalPair();
  });
  after(async () => {
    pair?.stop();
  });

  it("sums the spend rows already there once, and the rows written after it (by any version) through its trigger", async () => {
    const writer = loadConfig({ DATABASE_URL: pair.primary.url }, "migrate").writer;
    const all = readMigrations(migrationsDir).map((m) => m.name);
    const daily = all.findIndex((name) => name.endsWith("_daily_spend"));
    const before = mkdtempSync(join(tmpdir(), "tandem-migrations-"));
    for (const name of all.slice(0, daily)) cpSync(join(migrationsDir, name), join(before, name), { recursive: true });
    await migrate(writer, { dir: before, log: logs.logger });

    const client = new pg.Client({ connectionString: pair.primary.url });
    await client.connect();
    try {
      const insert = (ids: string[]) =>
        client.query(
          `INSERT INTO "tandem_spend_logs" ("request_id", "api_key", "team_id", "model", "prompt_tokens", "completion_tokens", "total_tokens", "spend", "start_time", "end_time")
           SELECT id, 'k-history', 't1', 'm', 10, 5, 15, 0.25, '2026-11-30T12:00:00Z', '2026-11-30T12:00:01Z' FROM unnest($1::text[]) AS id`,
          [ids],
        );
      await insert(["h1", "h2", "h3"]);
      await migrate(writer, { dir: migrationsDir, log: logs.logger });
      // A pod of the previous version writes spend rows its own way: they count too.
      await insert(["h4"]);
      const { rows } = await client.query<{ requests: string; spend: number; prompt: string }>(
        `SELECT requests, spend, prompt_tokens AS prompt FROM "tandem_daily_spend" WHERE "api_key" = 'k-history'`,
      );
      assert.deepEqual(
        rows.map((r) => [Number(r.requests), r.spend, Number(r.prompt)]),
        [[4, 1, 40]],
      );
    } finally {
      await client.end();
      rmSync(before, { recursive: true, force: true });
    }
  });
});
