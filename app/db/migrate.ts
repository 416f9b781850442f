import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { EndpointConfig } from "../config/env.js";
import type { Logger } from "../observability/logger.js";
import { scrub } from "../observability/secrets.js";
import { connectionConfig, iamTokensFor } from "./endpoint.js";
import type { TokenSigner } from "./iam-token.js";
import { copySpendHistory } from "./spend-history-copy.js";

// `prisma migrate deploy` needs the schema-engine binary, which can't be had
// on every build machine, so tandem applies prisma/migrations itself — and
// records them exactly as Prisma does, so either tool can take over a
// database the other has migrated.

/** The lock key `prisma migrate` itself uses: tandem and Prisma exclude each other too. */
const PRISMA_ADVISORY_LOCK = 72707369;

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  /** Spend rows of the previous release copied into the partitioned table. */
  spendRowsCopied: number;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations directory ${dir} does not exist`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/**
 * Applies every migration not yet applied, in name order, each once, each in
 * its own transaction (a failed one leaves nothing half-done and earlier ones
 * applied). Always the writer: a replica would refuse the DDL anyway.
 */
export async function migrate(
  writer: EndpointConfig,
  options: { dir: string; log: Logger; signer?: TokenSigner; lockTimeoutMs?: number },
): Promise<MigrationResult> {
  const { log } = options;
  const migrations = readMigrations(options.dir);
  const tokens = iamTokensFor(writer, log, options.signer);
  const client = new pg.Client({ ...connectionConfig(writer, tokens), application_name: "tandem-migrate" });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new MigrationError(`cannot connect to the writer DB for migrations: ${scrub(String((error as Error).message))}`);
  }
  const result: MigrationResult = { applied: [], alreadyApplied: [], spendRowsCopied: 0 };
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK]);
    await client.query(MIGRATIONS_TABLE);
    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
    }>(`SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`);
    const unfinished = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (unfinished) {
      throw new MigrationError(
        `migration ${unfinished.migration_name} was started but never finished (a failed \`prisma migrate deploy\`?); ` +
          `resolve it first, e.g. \`prisma migrate resolve --rolled-back ${unfinished.migration_name}\``,
      );
    }
    const done = new Map(
      rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r.checksum]),
    );

    for (const migration of migrations) {
      const appliedChecksum = done.get(migration.name);
      if (appliedChecksum !== undefined) {
        if (appliedChecksum !== migration.checksum) {
          log.warn({ migration: migration.name }, `migration ${migration.name} was modified after it was applied`);
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await apply(client, migration, options.lockTimeoutMs ?? 15_000);
      log.info({ migration: migration.name }, `applied migration ${migration.name}`);
      result.applied.push(migration.name);
    }
    // Data that moves between tables outside the migrations' transactions, so that pods keep writing meanwhile.
    result.spendRowsCopied = await copySpendHistory(client, log, options.lockTimeoutMs ?? 15_000);
    return result;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
    await client.end().catch(() => undefined);
    tokens?.stop();
  }
}

async function apply(client: pg.Client, migration: Migration, lockTimeoutMs: number): Promise<void> {
  const id = randomUUID();
  try {
    // The record and the DDL commit together or not at all: a migrator killed
    // at any point leaves either both or neither, so the next run completes.
    await client.query("BEGIN");
    // A table locked by a long query must not block the deploy forever.
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await client.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`, [
      id,
      migration.checksum,
      migration.name,
    ]);
    await client.query(migration.sql);
    await client.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    const e = error as { message?: string; code?: string };
    const hint = e.code === "55P03" ? ` (waited ${lockTimeoutMs} ms for a lock: a long query holds the table; retry when it is done)` : "";
    const reason = `${e.message ?? String(error)}${e.code ? ` (SQLSTATE ${e.code})` : ""}${hint}`;
    // Recorded as rolled back, which is what happened: both Prisma and tandem
    // will try it again once it is fixed.
    await client
      .query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, rolled_back_at, logs) VALUES ($1, $2, $3, now(), now(), $4)`,
        [id, migration.checksum, migration.name, reason],
      )
      .catch(() => undefined);
    throw new MigrationError(
      `migration ${migration.name} failed: ${reason}. Earlier migrations stay applied; nothing of this one was kept.`,
    );
  }
}
