// A PostgreSQL primary and a streaming read replica in the test namespace, made by tandem's own
// entrypoint (docker/postgres/entrypoint.sh, mounted from a ConfigMap and run with bash, so the
// official postgres image and local/postgres:15 behave alike), plus the database-side witness:
// psql run inside the postgres pods (local socket, trust auth) reading pg_stat_statements, and
// the servers' log_connections lines.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { isReady, type Kube } from "./kube.js";
import { repoRoot, settings } from "./settings.js";
import { eventually } from "./wait.js";

export type Server = "primary" | "replica" | "replica2" | "replica3";
/**
 * Two streaming replicas: the second one serves the several-readers scenario. A third is started
 * only by the discovery scenario, behind the read-only Service, while tandem runs.
 */
export const SERVICE: Record<Server, string> = {
  primary: "pg-primary",
  replica: "pg-replica",
  replica2: "pg-replica-2",
  replica3: "pg-replica-3",
};
/** Every replica pod carries it: what a read-only Service (CloudNativePG's `-ro`) selects. */
export const REPLICA_ROLE = { "tandem-e2e/role": "replica" };
const REPLICAS = ["replica", "replica2"] as const;
const CONTAINER = "postgres";
const SOCKET_DIR = "/var/run/postgresql";

/** A statement as pg_stat_statements shows it (normalized text) and how often it ran. */
export interface Statement {
  query: string;
  calls: number;
}

export interface Counts {
  primary: number;
  replica: number;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdent(value: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(value)) throw new Error(`unexpected identifier ${value}`);
  return value;
}

function postgresDeployment(server: Server): k8s.V1Deployment {
  const name = SERVICE[server];
  const labels = { app: name, "app.kubernetes.io/part-of": "tandem-e2e", ...(server === "primary" ? {} : REPLICA_ROLE) };
  const fromSecret = (key: string) => ({ valueFrom: { secretKeyRef: { name: "pg-credentials", key } } });
  const env: k8s.V1EnvVar[] = [
    { name: "POSTGRES_REPLICATION_MODE", value: server === "primary" ? "primary" : "replica" },
    { name: "POSTGRES_REPLICATION_USER", value: "replicator" },
    { name: "POSTGRES_REPLICATION_PASSWORD", ...fromSecret("replication-password") },
    { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
  ];
  if (server === "primary") {
    env.push(
      { name: "POSTGRES_USER", value: "postgres" },
      { name: "POSTGRES_PASSWORD", ...fromSecret("superuser-password") },
      { name: "POSTGRES_DB", value: "postgres" },
    );
  } else {
    env.push({ name: "POSTGRES_PRIMARY_HOST", value: SERVICE.primary }, { name: "POSTGRES_PRIMARY_PORT", value: "5432" });
  }
  return {
    metadata: { name, labels },
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          // One process namespace for the pod, so postgres is not PID 1 and the fault tests can
          // stop (SIGSTOP) every postgres process of the pod, the postmaster included.
          shareProcessNamespace: true,
          // Fast shutdown (SIGINT) in preStop: Kubernetes' SIGTERM would be a "smart" shutdown that
          // waits for every client to disconnect, so the outage would start only when tandem's
          // pooled connections went idle.
          terminationGracePeriodSeconds: 15,
          containers: [
            {
              name: CONTAINER,
              image: settings.postgresImage,
              imagePullPolicy: settings.pullPolicy,
              command: ["bash", "/tandem-pg/entrypoint.sh"],
              args: [
                "postgres",
                "-c",
                "shared_preload_libraries=pg_stat_statements",
                "-c",
                "pg_stat_statements.track=all",
                "-c",
                "log_connections=on",
              ],
              env,
              ports: [{ name: "postgres", containerPort: 5432 }],
              readinessProbe: {
                exec: { command: ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"] },
                periodSeconds: 2,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              lifecycle: { preStop: { exec: { command: ["bash", "-c", "kill -INT 1"] } } },
              resources: { requests: { cpu: "50m", memory: "128Mi" } },
              volumeMounts: [
                { name: "scripts", mountPath: "/tandem-pg", readOnly: true },
                { name: "data", mountPath: "/var/lib/postgresql/data" },
                ...(server === "primary" ? [{ name: "initdb", mountPath: "/docker-entrypoint-initdb.d", readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: "scripts", configMap: { name: "pg-entrypoint" } },
            { name: "data", emptyDir: {} },
            ...(server === "primary" ? [{ name: "initdb", configMap: { name: "pg-initdb" } }] : []),
          ],
        },
      },
    },
  };
}

function postgresService(server: Server): k8s.V1Service {
  const name = SERVICE[server];
  return {
    metadata: { name, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: "postgres", port: 5432, targetPort: 5432 }] },
  };
}

export class PgPair {
  constructor(
    private readonly kube: Kube,
    /** The application role's name and password (a login role that owns each test database). */
    readonly appUser: string,
    readonly appPassword: string,
  ) {}

  /** Creates both servers and waits for the replica to stream from the primary. */
  static async deploy(kube: Kube, passwords: { superuser: string; replication: string; app: string }): Promise<PgPair> {
    const initdbDir = join(repoRoot, "docker/postgres/initdb.d");
    await kube.createConfigMap("pg-entrypoint", { "entrypoint.sh": readFileSync(join(repoRoot, "docker/postgres/entrypoint.sh"), "utf8") });
    await kube.createConfigMap(
      "pg-initdb",
      Object.fromEntries(readdirSync(initdbDir).map((f) => [f, readFileSync(join(initdbDir, f), "utf8")])),
    );
    await kube.createSecret("pg-credentials", { "superuser-password": passwords.superuser, "replication-password": passwords.replication });
    for (const server of ["primary", ...REPLICAS] as const) {
      await kube.createService(postgresService(server));
      await kube.createDeployment(postgresDeployment(server));
    }
    const pair = new PgPair(kube, "tandem", passwords.app);
    await kube.waitDeploymentReady(SERVICE.primary, 240_000);
    await pair.psql("primary", "postgres", `CREATE ROLE ${pair.appUser} LOGIN PASSWORD ${quoteLiteral(passwords.app)}`);
    for (const replica of REPLICAS) await kube.waitDeploymentReady(SERVICE[replica], 240_000);
    await pair.waitStreaming();
    return pair;
  }

  /** One more streaming replica (its pod labelled like the others), started now; waits until it is Ready. */
  async addReplica(server: Extract<Server, "replica3">): Promise<void> {
    await this.kube.createDeployment(postgresDeployment(server));
    await this.kube.waitDeploymentReady(SERVICE[server], 240_000);
  }

  /** A Service over every replica pod, as CloudNativePG's `<cluster>-ro`: each new connection to any of them. */
  async createReadOnlyService(name: string): Promise<void> {
    await this.kube.createService({
      metadata: { name, labels: { app: name } },
      spec: { selector: REPLICA_ROLE, ports: [{ name: "postgres", port: 5432, targetPort: 5432 }] },
    });
  }

  /** The application role's URL on any host (a Service of the test's own). */
  urlAt(host: string, database: string): string {
    return `postgresql://${this.appUser}:${encodeURIComponent(this.appPassword)}@${host}:5432/${database}`;
  }

  async pod(server: Server): Promise<string> {
    const pods = await this.kube.pods(`app=${SERVICE[server]}`);
    const ready = pods.find(isReady);
    if (!ready?.metadata?.name) throw new Error(`no Ready ${SERVICE[server]} pod`);
    return ready.metadata.name;
  }

  /** Runs SQL with psql in the server's pod, as the superuser over the local socket; returns unaligned tuples. */
  async psql(server: Server, database: string, sql: string): Promise<string> {
    const pod = await this.pod(server);
    const r = await this.kube.exec(pod, CONTAINER, [
      "psql",
      "-X",
      "-q",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      SOCKET_DIR,
      "-U",
      "postgres",
      "-d",
      database,
      "-c",
      sql,
    ]);
    if (r.code !== 0)
      throw new Error(`psql on ${server}/${database} failed (exit ${r.code}): ${r.stderr.trim()} — SQL: ${sql.slice(0, 200)}`);
    return r.stdout.trim();
  }

  /** Sends `signal` to every postgres process of the server's pod: SIGSTOP hangs it (connections stay open, nothing answers), SIGCONT resumes it. */
  async signal(server: Server, signal: "STOP" | "CONT"): Promise<number> {
    const pod = await this.podAnyState(server);
    const script = `n=0; for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = postgres ] && kill -${signal} \${p#/proc/} && n=$((n+1)); done; echo $n`;
    const r = await this.kube.exec(pod, CONTAINER, ["bash", "-c", script]);
    if (r.code !== 0) throw new Error(`signal ${signal} in ${pod} failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  }

  /** The server's pod, Ready or not (a stopped server's pod turns NotReady). */
  private async podAnyState(server: Server): Promise<string> {
    const pods = await this.kube.pods(`app=${SERVICE[server]}`);
    const name = pods[0]?.metadata?.name;
    if (!name) throw new Error(`no ${SERVICE[server]} pod`);
    return name;
  }

  async waitStreaming(): Promise<void> {
    await eventually(
      "both replicas to stream from the primary (pg_stat_replication)",
      () => this.psql("primary", "postgres", "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"),
      (n) => Number(n) >= REPLICAS.length,
      { timeoutMs: 60_000 },
    );
  }

  /** A database owned by the application role (or `owner`), with pg_stat_statements in it. */
  async createDatabase(name: string, owner = this.appUser): Promise<void> {
    await this.psql("primary", "postgres", `CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(owner)}`);
    await this.psql("primary", name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  }

  url(server: Server, database: string, user = this.appUser, password = this.appPassword): string {
    return `postgresql://${user}:${encodeURIComponent(password)}@${SERVICE[server]}:5432/${database}`;
  }

  /** A login role of its own (a scenario that rotates its password leaves the shared role alone). */
  async createRole(name: string, password: string): Promise<void> {
    await this.psql("primary", "postgres", `CREATE ROLE ${quoteIdent(name)} LOGIN PASSWORD ${quoteLiteral(password)}`);
  }

  async setPassword(role: string, password: string): Promise<void> {
    await this.psql("primary", "postgres", `ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(password)}`);
  }

  /** Terminates the backends of `role` in `database` on `server` (connections opened before a rotation); returns how many. */
  async terminate(server: Server, role: string, database: string): Promise<number> {
    const n = await this.psql(
      server,
      "postgres",
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = ${quoteLiteral(role)} AND datname = ${quoteLiteral(database)}`,
    );
    return Number(n);
  }

  /** Backend pids of `role` in `database` on `server`. */
  async backends(server: Server, role: string, database: string): Promise<number[]> {
    const out = await this.psql(
      server,
      "postgres",
      `SELECT pid FROM pg_stat_activity WHERE usename = ${quoteLiteral(role)} AND datname = ${quoteLiteral(database)}`,
    );
    return out.split("\n").filter(Boolean).map(Number);
  }

  /** Waits until every replica has replayed everything the primary has written so far. */
  async waitReplayed(timeoutMs = 20_000): Promise<void> {
    const lsn = await this.psql("primary", "postgres", "SELECT pg_current_wal_insert_lsn()");
    for (const replica of REPLICAS) {
      await eventually(
        `${SERVICE[replica]} to replay up to ${lsn}`,
        () => this.psql(replica, "postgres", `SELECT pg_last_wal_replay_lsn() >= ${quoteLiteral(lsn)}::pg_lsn`),
        (r) => r === "t",
        { timeoutMs, intervalMs: 250 },
      );
    }
  }

  /** Forgets the pg_stat_statements entries of one database on one server. */
  async resetStatements(server: Server, database: string): Promise<void> {
    await this.psql(
      server,
      "postgres",
      `SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = ${quoteLiteral(database)}), 0)`,
    );
  }

  async reset(database: string): Promise<void> {
    await Promise.all(["primary", ...REPLICAS].map((server) => this.resetStatements(server as Server, database)));
  }

  /** Statements that ran in `database` on `server` since its last reset (pg_stat_statements, read from the postgres database). */
  async statements(server: Server, database: string): Promise<Statement[]> {
    const out = await this.psql(
      server,
      "postgres",
      `SELECT coalesce(json_agg(json_build_object('query', s.query, 'calls', s.calls)), '[]'::json)
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = ${quoteLiteral(database)}`,
    );
    return JSON.parse(out) as Statement[];
  }

  async count(database: string, pattern: RegExp): Promise<Counts> {
    const sum = (list: Statement[]) => list.filter((s) => pattern.test(s.query)).reduce((n, s) => n + Number(s.calls), 0);
    const [primary, replica] = await Promise.all([this.statements("primary", database), this.statements("replica", database)]);
    return { primary: sum(primary), replica: sum(replica) };
  }

  /** How often statements matching `pattern` ran in `database` on one server. */
  async countOn(server: Server, database: string, pattern: RegExp): Promise<number> {
    return (await this.statements(server, database)).filter((s) => pattern.test(s.query)).reduce((n, s) => n + Number(s.calls), 0);
  }

  /** The server's log (stderr of the postgres container, with log_connections lines). */
  async log(server: Server): Promise<string> {
    return this.kube.logs(await this.pod(server), CONTAINER);
  }
}
