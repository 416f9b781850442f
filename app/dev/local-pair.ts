// A throwaway PostgreSQL primary with a real streaming replica on loopback,
// for `make run` and the integration tests. Real replication (pg_basebackup
// + WAL streaming), not two independent servers, so the tests see what
// production sees: a hot standby that refuses writes and lags a little.
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface PgServer {
  /** "primary", "replica", then "replica2", "replica3" … */
  name: string;
  port: number;
  dataDir: string;
  /** Superuser URL (for test witnesses and setup). */
  adminUrl: string;
  /** Application role URL on the `tandem` database. */
  url: string;
  start(): void;
  /** `immediate` is a crash (connections reset); `fast` is an orderly shutdown (57P01). */
  stop(mode?: "fast" | "immediate"): void;
  running(): boolean;
  /** `pg_ctl promote`: a standby becomes a primary (a failover). */
  promote(): void;
}

export interface LocalPair {
  primary: PgServer;
  /** The first replica. */
  replica: PgServer;
  /** Every replica (one unless asked for more), each streaming from the primary. */
  replicas: PgServer[];
  database: string;
  appUser: string;
  appPassword: string;
  /** Waits until every running replica has replayed everything the primary has written so far. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  stop(): void;
}

const isRoot = process.getuid?.() === 0;

function pgBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "pg_basebackup")));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  const out = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  if (out.status === 0) return out.stdout.trim();
  throw new Error("PostgreSQL server binaries not found: install postgresql (apt-get install postgresql) or set PG_BIN");
}

// Postgres refuses to run as root, so as root every server command runs as
// the `postgres` OS user; the data directories are handed to it.
function asPostgres(bin: string, args: string[]): [string, string[]] {
  const command = join(pgBinDir(), bin);
  return isRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

/** Runs a server binary; fails with its stderr. */
function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const [file, argv] = asPostgres(bin, args);
  try {
    return execFileSync(file, argv, { encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${bin} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function owned(path: string): void {
  if (!isRoot) return;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  chownSync(path, uid, gid);
}

export async function startLocalPair(options: { database?: string; appUser?: string; replicas?: number } = {}): Promise<LocalPair> {
  const database = options.database ?? "tandem";
  const appUser = options.appUser ?? "tandem";
  const superPassword = randomBytes(12).toString("hex");
  const appPassword = randomBytes(12).toString("hex");
  const base = mkdtempSync(join(tmpdir(), "tandem-pg-"));
  owned(base);
  const replicaCount = Math.max(1, options.replicas ?? 1);
  const primaryPort = await freePort();
  const replicaPorts: number[] = [];
  for (let i = 0; i < replicaCount; i++) replicaPorts.push(await freePort());

  const pwfile = join(base, "pwfile");
  writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
  owned(pwfile);

  const server = (name: PgServer["name"], port: number): PgServer => {
    const dataDir = join(base, name);
    const logFile = join(base, `${name}.log`);
    const self: PgServer = {
      name,
      port,
      dataDir,
      adminUrl: `postgresql://postgres:${superPassword}@127.0.0.1:${port}/${database}`,
      url: `postgresql://${appUser}:${appPassword}@127.0.0.1:${port}/${database}`,
      start: () => void run("pg_ctl", ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"]),
      stop: (mode = "fast") => void run("pg_ctl", ["-D", dataDir, "-m", mode, "-w", "stop"]),
      running: () => spawnSync(...asPostgres("pg_ctl", ["-D", dataDir, "status"])).status === 0,
      promote: () => void run("pg_ctl", ["-D", dataDir, "-w", "promote"]),
    };
    return self;
  };
  const primary = server("primary", primaryPort);
  const replicas = replicaPorts.map((port, i) => server(i === 0 ? "replica" : `replica${i + 1}`, port));
  const replica = replicas[0]!;

  run("initdb", [
    "-D",
    primary.dataDir,
    "-U",
    "postgres",
    `--pwfile=${pwfile}`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  appendFileSync(
    join(primary.dataDir, "postgresql.conf"),
    [
      `port = ${primaryPort}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${base}'`,
      "wal_level = replica",
      "max_wal_senders = 10",
      "hot_standby = on",
      "max_connections = 200",
      "shared_preload_libraries = 'pg_stat_statements'",
      "pg_stat_statements.track = 'all'",
      // Throwaway data: durability only costs test time.
      "fsync = off",
      "synchronous_commit = off",
      "full_page_writes = off",
      // With synchronous_commit off, WAL reaches the replica when the WAL
      // writer wakes; a short delay keeps replication as prompt as a
      // production primary's synchronous commits make it.
      "wal_writer_delay = 10ms",
      "",
    ].join("\n"),
  );

  const cleanup = () => {
    for (const s of [...replicas, primary]) {
      // Synchronous on purpose: this also runs from the process 'exit' handler.
      if (existsSync(join(s.dataDir, "postmaster.pid")))
        spawnSync(...asPostgres("pg_ctl", ["-D", s.dataDir, "-m", "immediate", "-w", "stop"]));
    }
    rmSync(base, { recursive: true, force: true });
  };
  // A test process that dies must not leave servers behind.
  process.once("exit", cleanup);

  try {
    primary.start();
    const admin = new pg.Client({ connectionString: primary.adminUrl.replace(`/${database}`, "/postgres") });
    await admin.connect();
    await admin.query(`CREATE ROLE ${appUser} LOGIN PASSWORD '${appPassword}'`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${appUser}`);
    await admin.end();
    const adminDb = new pg.Client({ connectionString: primary.adminUrl });
    await adminDb.connect();
    await adminDb.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await adminDb.query(`GRANT pg_read_all_stats TO ${appUser}`);
    await adminDb.end();

    for (const standby of replicas) {
      run(
        "pg_basebackup",
        [
          "-h",
          "127.0.0.1",
          "-p",
          String(primaryPort),
          "-U",
          "postgres",
          "-D",
          standby.dataDir,
          "-R",
          "-X",
          "stream",
          "-c",
          "fast",
          "--no-sync",
        ],
        {
          PGPASSWORD: superPassword,
        },
      );
      // Its own port, and a name the primary's pg_stat_replication can tell apart.
      appendFileSync(join(standby.dataDir, "postgresql.conf"), `port = ${standby.port}\n`);
      appendFileSync(
        join(standby.dataDir, "postgresql.auto.conf"),
        `primary_conninfo = '${conninfo(primaryPort, superPassword, standby.name)}'\n`,
      );
      standby.start();
    }
    await waitForStreaming(primary.adminUrl, replicas.length, 30_000);
  } catch (error) {
    cleanup();
    throw error;
  }

  return {
    primary,
    replica,
    replicas,
    database,
    appUser,
    appPassword,
    waitForReplay: async (timeoutMs = 10_000) => {
      await Promise.all(replicas.filter((r) => r.running()).map((r) => waitForReplay(primary.adminUrl, r.adminUrl, timeoutMs)));
    },
    stop: () => {
      process.removeListener("exit", cleanup);
      cleanup();
    },
  };
}

function conninfo(port: number, password: string, name: string): string {
  return `host=127.0.0.1 port=${port} user=postgres password=${password} application_name=${name}`;
}

async function waitForStreaming(primaryUrl: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ state: string }>("SELECT state FROM pg_stat_replication");
      if (rows.filter((r) => r.state === "streaming").length >= count) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${count} replica(s) did not start streaming within ${timeoutMs} ms`);
  } finally {
    await client.end();
  }
}

async function waitForReplay(primaryUrl: string, replicaUrl: string, timeoutMs: number): Promise<void> {
  const primary = new pg.Client({ connectionString: primaryUrl });
  const replica = new pg.Client({ connectionString: replicaUrl });
  await Promise.all([primary.connect(), replica.connect()]);
  try {
    // The insert position, not the write position: with synchronous_commit
    // off a commit can sit in WAL buffers, and the write position would miss it.
    const { rows } = await primary.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
    const target = rows[0]?.lsn;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await replica.query<{ caught: boolean }>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught", [target]);
      if (r.rows[0]?.caught) return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`replica did not replay up to ${target} within ${timeoutMs} ms`);
  } finally {
    await Promise.all([primary.end(), replica.end()]);
  }
}
