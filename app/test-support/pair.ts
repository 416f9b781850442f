// Shared set-up for integration tests: a real primary + streaming replica,
// migrated, and a database-side witness of where statements ran.
import pg from "pg";
import { startLocalPair, type LocalPair, type PgServer } from "../dev/local-pair.js";
import { loadConfig, type Config } from "../config/env.js";
import { migrate } from "../db/migrate.js";
import { openDatabase } from "../db/database.js";
import { migrationsDir } from "../paths.js";
import { captureLogs, type CapturedLogs } from "./logs.js";

export async function startMigratedPair(options: { replicas?: number } = {}): Promise<LocalPair> {
  const pair = await startLocalPair(options);
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

/** Teams with these aliases, written on the writer and replayed by every replica: what the read tests look up. */
export async function seedTeams(pair: LocalPair, aliases: readonly string[]): Promise<void> {
  const seed = await openDatabase(configFor(pair, { DATABASE_URL_READ_REPLICA: "" }), captureLogs().logger);
  try {
    await seed.db.team.createMany({ data: aliases.map((team_alias) => ({ team_alias })) });
  } finally {
    await seed.close();
  }
  await pair.waitForReplay();
}

/** A database layer reading from `readerUrl`, with the fault tests' quick health cycle and read timeout. */
export function openReading(pair: LocalPair, readerUrl: string, logger: CapturedLogs["logger"], env: Record<string, string> = {}) {
  return openDatabase(
    configFor(pair, {
      DATABASE_URL_READ_REPLICA: readerUrl,
      DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
      DATABASE_READ_TIMEOUT_MS: "1000",
      ...env,
    }),
    logger,
  );
}

export interface Executions {
  writer: number;
  /** On every replica together. */
  reader: number;
  /** On each replica, in the pair's order. */
  replicas: number[];
}

/**
 * Counts, on each server, the statements whose text matches — from
 * pg_stat_statements, i.e. what the database itself executed, not what the
 * wrapper claims it sent. A server that is down counts as 0.
 */
export class Witness {
  constructor(private readonly pair: LocalPair) {}

  static async open(pair: LocalPair): Promise<Witness> {
    return new Witness(pair);
  }

  private async on<T>(server: PgServer, query: (client: pg.Client) => Promise<T>, whenDown: T): Promise<T> {
    // Bounded: a frozen (SIGSTOPped) server counts as down instead of hanging the test.
    const client = new pg.Client({
      connectionString: server.adminUrl,
      application_name: "witness",
      connectionTimeoutMillis: 3000,
      query_timeout: 5000,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch {
      return whenDown;
    }
    try {
      return await query(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async reset(): Promise<void> {
    const reset = (c: pg.Client) => c.query("SELECT pg_stat_statements_reset()").then(() => undefined);
    await Promise.all([this.pair.primary, ...this.pair.replicas].map((server) => this.on(server, reset, undefined)));
  }

  async count(pattern: RegExp): Promise<Executions> {
    const calls = (client: pg.Client) =>
      client
        .query<{ query: string; calls: string }>(
          "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .then(({ rows }) => rows.filter((r) => pattern.test(r.query)).reduce((sum, r) => sum + Number(r.calls), 0));
    const [writer, ...replicas] = await Promise.all([this.pair.primary, ...this.pair.replicas].map((server) => this.on(server, calls, 0)));
    return { writer: writer ?? 0, reader: replicas.reduce((a, b) => a + b, 0), replicas };
  }

  /** Runs `action` after a reset and reports where statements matching `pattern` ran. */
  async during(pattern: RegExp, action: () => Promise<unknown>): Promise<Executions> {
    await this.reset();
    await action();
    return this.count(pattern);
  }

  async close(): Promise<void> {}
}

/** The same URL with another password (a rotated credential). */
export function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** Fails if any captured log line contains any of the secrets. */
export function assertNoSecrets(lines: string[], secrets: string[]): void {
  for (const line of lines) {
    for (const secret of secrets) {
      if (secret && line.includes(secret)) throw new Error(`a secret leaked into a log line: ${line.replace(secret, "<SECRET>")}`);
    }
  }
}

export type { LocalPair, CapturedLogs };
