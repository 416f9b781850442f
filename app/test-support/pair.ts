// Shared set-up for integration tests: a real primary + streaming replica,
// migrated, and a database-side witness of where statements ran.
import pg from "pg";
import { startLocalPair, type LocalPair, type PgServer } from "../dev/local-pair.js";
import { loadConfig, type Config } from "../config/env.js";
import { migrate } from "../db/migrate.js";
import { migrationsDir } from "../paths.js";
import { captureLogs, type CapturedLogs } from "./logs.js";

export async function startMigratedPair(): Promise<LocalPair> {
  const pair = await startLocalPair();
  const logs = captureLogs();
  await migrate(loadConfig({ DATABASE_URL: pair.primary.url }, "migrate").writer, { dir: migrationsDir, log: logs.logger });
  await pair.waitForReplay();
  return pair;
}

export function configFor(pair: LocalPair, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: pair.primary.url,
    DATABASE_URL_READ_REPLICA: pair.replica.url,
    MASTER_KEY: "sk-master-test-key",
    DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
    ...env,
  });
}

export interface Executions {
  writer: number;
  reader: number;
}

/**
 * Counts, on each server, the statements whose text matches — from
 * pg_stat_statements, i.e. what the database itself executed, not what the
 * wrapper claims it sent.
 */
export class Witness {
  private constructor(
    private readonly primary: pg.Client,
    private readonly replica: pg.Client,
  ) {}

  static async open(pair: LocalPair): Promise<Witness> {
    const connect = async (server: PgServer) => {
      const client = new pg.Client({ connectionString: server.adminUrl, application_name: "witness" });
      await client.connect();
      return client;
    };
    return new Witness(await connect(pair.primary), await connect(pair.replica));
  }

  async reset(): Promise<void> {
    await Promise.all([this.primary.query("SELECT pg_stat_statements_reset()"), this.replica.query("SELECT pg_stat_statements_reset()")]);
  }

  async count(pattern: RegExp): Promise<Executions> {
    const calls = async (client: pg.Client) => {
      const { rows } = await client.query<{ query: string; calls: string }>(
        "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
      return rows.filter((r) => pattern.test(r.query)).reduce((sum, r) => sum + Number(r.calls), 0);
    };
    return { writer: await calls(this.primary), reader: await calls(this.replica) };
  }

  /** Runs `action` after a reset and reports where statements matching `pattern` ran. */
  async during(pattern: RegExp, action: () => Promise<unknown>): Promise<Executions> {
    await this.reset();
    await action();
    return this.count(pattern);
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.end(), this.replica.end()]);
  }
}

export type { LocalPair, CapturedLogs };
