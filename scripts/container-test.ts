// Container test: the built image (tandem:dev) against a real PostgreSQL primary + streaming
// replica on the host's loopback (app/dev/local-pair.ts), run the way a hardened deployment
// runs it: read-only root filesystem, a tmpfs on /tmp, every capability dropped, uid 10001.
//
//   scripts/container-test.sh          (builds the image and installs PostgreSQL when missing)
//   node --import tsx scripts/container-test.ts
//
// Env: IMAGE (tandem:dev), DOCKER (docker). Prints one PASS/FAIL line per check and a closing
// "N passed, N failed" line; exits 1 when a check failed.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startLocalPair, type LocalPair, type PgServer } from "../app/dev/local-pair.js";

const IMAGE = process.env.IMAGE ?? "tandem:dev";
const DOCKER = process.env.DOCKER ?? "docker";
const MASTER_KEY = `sk-master-${randomBytes(12).toString("hex")}`;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const STOP_GRACE_S = 30;

const results: { name: string; ok: boolean; detail: string }[] = [];
function check(name: string, ok: boolean, detail = ""): boolean {
  results.push({ name, ok, detail });
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
  return ok;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function docker(args: string[], options: { allowFail?: boolean; timeoutMs?: number } = {}): { code: number; out: string } {
  try {
    const out = execFileSync(DOCKER, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    return { code: 0, out: out.trim() };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string; message: string };
    if (!options.allowFail) throw new Error(`docker ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
    return { code: e.status ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() };
  }
}

function dockerAsync(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(DOCKER, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: "container-test" });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SELECTs on the key table that the server itself executed (pg_stat_statements). */
async function keySelects(server: PgServer): Promise<number> {
  return withClient(server.adminUrl, async (c) => {
    const { rows } = await c.query<{ calls: string }>(
      `SELECT coalesce(sum(calls), 0)::text AS calls FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query ~* '^\\s*select' AND query ~* 'tandem_verification_token'`,
    );
    return Number(rows[0]?.calls ?? 0);
  });
}

async function applicationNames(server: PgServer): Promise<string[]> {
  return withClient(server.adminUrl, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      "SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'tandem-%' ORDER BY 1",
    );
    return rows.map((r) => r.name);
  });
}

interface Http {
  status: number;
  body: unknown;
}
async function http(base: string, path: string, init: RequestInit = {}, timeoutMs = 5000): Promise<Http> {
  const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

const admin = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${MASTER_KEY}`, ...extra });

async function waitFor<T>(what: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, everyMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await what();
      if (ok(last)) return last;
    } catch {
      // not yet
    }
    await sleep(everyMs);
  }
  return last;
}

type Readiness = { status: number; reader?: string; writer?: string };
async function readiness(base: string): Promise<Readiness> {
  const r = await http(base, "/health/readiness", {}, 3000);
  const db = (r.body as { db?: { reader?: string; writer?: string } }).db;
  return { status: r.status, reader: db?.reader, writer: db?.writer };
}

/** Key lookups from `workers` concurrent loops until `stop()`; counts every non-200 answer. */
function requestLoop(base: string, key: string, workers: number, maxRequests: number) {
  let running = true;
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: workers }, async () => {
    while (running && ok + failed < maxRequests) {
      try {
        const r = await http(base, `/key/info?key=${encodeURIComponent(key)}`, { headers: admin() }, 10_000);
        if (r.status === 200) ok++;
        else {
          failed++;
          if (failures.length < 5) failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        }
      } catch (error) {
        failed++;
        if (failures.length < 5) failures.push(String(error));
      }
    }
  });
  return {
    stats: () => ({ ok, failed, failures }),
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failed, failures };
    },
  };
}

async function replicaOutage(label: string, pair: LocalPair, base: string, key: string, mode: "fast" | "immediate"): Promise<void> {
  const loop = requestLoop(base, key, 4, 20_000);
  await sleep(1500);
  const before = loop.stats().ok;
  pair.replica.stop(mode);
  const degraded = await waitFor(
    () => readiness(base),
    (r) => r.reader === "degraded",
    15_000,
  );
  await sleep(2000);
  const during = loop.stats().ok;
  const result = await loop.stop();
  check(
    `${label}: replica stopped (${mode}) under a request loop -> zero failed requests`,
    result.failed === 0 && during > before,
    `${result.ok} ok, ${result.failed} failed (${during - before} answered while the replica was down)${result.failures.length ? `; ${result.failures.join(" | ")}` : ""}`,
  );
  check(
    `${label}: readiness stays 200 with reader "degraded" while the replica is down`,
    degraded?.status === 200 && degraded.reader === "degraded",
    JSON.stringify(degraded),
  );
  pair.replica.start();
  const back = await waitFor(
    () => readiness(base),
    (r) => r.reader === "connected",
    30_000,
  );
  check(`${label}: replica back -> reader "connected" again`, back?.status === 200 && back.reader === "connected", JSON.stringify(back));
}

async function main(): Promise<void> {
  const name = `tandem-ct-${process.pid}`;
  const cleanup = () => void docker(["rm", "-f", name], { allowFail: true });
  process.once("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

  if (!check("image present", docker(["image", "inspect", IMAGE], { allowFail: true }).code === 0, IMAGE)) return;
  const inspect = JSON.parse(docker(["image", "inspect", IMAGE]).out) as [
    { Size: number; Config: { User: string; Entrypoint: string[]; Cmd: string[]; Labels: Record<string, string>; Healthcheck?: unknown } },
  ];
  const img = inspect[0].Config;
  check(
    "image config: user 10001, entrypoint tandem, default command serve, OCI labels, healthcheck",
    img.User.startsWith("10001") &&
      img.Entrypoint.join(" ") === "tandem" &&
      img.Cmd.join(" ") === "serve" &&
      Boolean(img.Labels["org.opencontainers.image.title"]) &&
      Boolean(img.Labels["org.opencontainers.image.revision"]) &&
      img.Healthcheck !== undefined,
    `user=${img.User} entrypoint=${JSON.stringify(img.Entrypoint)} cmd=${JSON.stringify(img.Cmd)} size=${Math.round(inspect[0].Size / 1e6)} MB`,
  );
  // The image is at most 200 MB, and where its bytes are is printed layer by layer.
  const layers = docker(["history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", IMAGE]).out.trim().split("\n");
  for (const layer of layers) {
    const [size = "", createdBy = ""] = layer.split("\t");
    if (size !== "0B") console.log(`#   layer ${size.padStart(8)}  ${createdBy.replace(/\s+/g, " ").slice(0, 110)}`);
  }
  check("image size at most 200 MB", inspect[0].Size <= 200_000_000, `${(inspect[0].Size / 1e6).toFixed(1)} MB`);

  // The image has no shell tools to look with (by design): node walks its file system instead.
  const contents = docker(
    [
      "run",
      "--rm",
      "--entrypoint",
      "node",
      IMAGE,
      "-e",
      [
        "const fs = require('fs'), path = require('path'); const found = [];",
        "const walk = (dir) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) {",
        "  const p = path.join(dir, e.name);",
        "  if (/query_engine|schema-engine|libquery|^(npm|npx|corepack|yarn|tsc|tsx|gcc|make|apt|apt-get|dpkg|bash)$/.test(e.name)) found.push(p);",
        "  if (e.isDirectory() && !['/proc', '/sys', '/dev'].includes(p)) walk(p); } };",
        "walk('/'); if (fs.existsSync('/app/node_modules')) found.push('/app/node_modules'); console.log(found.join(' '));",
      ].join(" "),
    ],
    { allowFail: true },
  );
  check(
    "image holds no Prisma CLI/engines, node_modules, package managers or build tools",
    contents.code === 0 && contents.out === "",
    contents.out || "none found",
  );

  console.log("# starting a PostgreSQL primary + streaming replica on loopback");
  const pair = await startLocalPair();
  const writerUrl = pair.primary.url;
  const readerUrl = pair.replica.url;
  const net = ["--network", "host"];

  // --- migrate ------------------------------------------------------------------------------
  const migrateArgs = [
    "run",
    "--rm",
    ...net,
    "--read-only",
    "--cap-drop",
    "ALL",
    "--user",
    "10001:10001",
    "-e",
    `DATABASE_URL=${writerUrl}`,
    IMAGE,
    "migrate",
  ];
  const migrated = docker(migrateArgs, { allowFail: true });
  const tables = await withClient(pair.primary.adminUrl, (c) =>
    c.query<{ n: string }>("SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name LIKE 'tandem_%'"),
  );
  check(
    "`tandem migrate` against the primary exits 0 and creates the tables",
    migrated.code === 0 && Number(tables.rows[0]?.n) >= 3,
    `exit ${migrated.code}, ${tables.rows[0]?.n} tandem_* tables`,
  );
  const again = docker(migrateArgs, { allowFail: true });
  check("`tandem migrate` again is a no-op (exit 0)", again.code === 0, `exit ${again.code}`);
  if (migrated.code !== 0) console.log(migrated.out);
  await pair.waitForReplay();

  // --- serve --------------------------------------------------------------------------------
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  docker([
    "run",
    "-d",
    "--name",
    name,
    ...net,
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--user",
    "10001:10001",
    "-e",
    `DATABASE_URL=${writerUrl}`,
    "-e",
    `DATABASE_URL_READ_REPLICA=${readerUrl}`,
    "-e",
    `MASTER_KEY=${MASTER_KEY}`,
    "-e",
    `PORT=${port}`,
    "-e",
    "DATABASE_HEALTH_CHECK_INTERVAL_MS=500",
    "-e",
    `SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS}`,
    "-e",
    "LOG_LEVEL=info",
    IMAGE,
  ]);
  const started = Date.now();
  const ready = await waitFor(
    () => readiness(base),
    (r) => r.status === 200 && r.reader === "connected",
    60_000,
  );
  const okReady = check(
    "serve (read-only rootfs, tmpfs /tmp, cap-drop ALL, uid 10001): readiness 200, writer and reader connected",
    ready?.status === 200 && ready.writer === "connected" && ready.reader === "connected",
    `${JSON.stringify(ready)} after ${Date.now() - started} ms`,
  );
  if (!okReady) {
    console.log(docker(["logs", "--tail", "50", name], { allowFail: true }).out);
    return;
  }
  const live = await http(base, "/health/liveliness");
  check("liveliness 200", live.status === 200, JSON.stringify(live.body));

  const hardening = JSON.parse(docker(["inspect", name]).out) as [
    { HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null }; Config: { User: string } },
  ];
  const hc = hardening[0];
  const writeProbe = docker(["exec", name, "node", "-e", "require('fs').writeFileSync('/app/probe', 'x')"], { allowFail: true });
  const tmpProbe = docker(["exec", name, "node", "-e", "require('fs').writeFileSync('/tmp/probe', 'x')"], { allowFail: true });
  const whoami = docker(["exec", name, "node", "-p", "process.getuid()"], { allowFail: true });
  check(
    "runs as uid 10001 with a read-only root filesystem (writes to /app fail, /tmp works) and no capabilities",
    hc.HostConfig.ReadonlyRootfs &&
      (hc.HostConfig.CapDrop ?? []).includes("ALL") &&
      whoami.out === "10001" &&
      writeProbe.code !== 0 &&
      tmpProbe.code === 0,
    `uid=${whoami.out}, /app write: ${writeProbe.code !== 0 ? "refused" : "ALLOWED"}, /tmp write: ${tmpProbe.code === 0 ? "ok" : "refused"}`,
  );
  const pid1 = docker(["exec", name, "node", "-p", "require('fs').readFileSync('/proc/1/cmdline', 'utf8').split('\\0').join(' ').trim()"], {
    allowFail: true,
  }).out;
  check("node is PID 1 in the container (SIGTERM reaches the app)", /^node \/app\/dist\/tandem\.mjs serve$/.test(pid1), `PID 1: ${pid1}`);

  // --- keys ---------------------------------------------------------------------------------
  const alias = `ct-${randomBytes(4).toString("hex")}`;
  const generated = await http(base, "/key/generate", {
    method: "POST",
    headers: admin({ "content-type": "application/json" }),
    body: JSON.stringify({ key_alias: alias, max_budget: 10, models: ["gpt-4o-mini"] }),
  });
  const key = (generated.body as { key?: string }).key;
  if (
    !check(
      "POST /key/generate with the master key",
      generated.status === 200 && typeof key === "string" && key.startsWith("sk-"),
      `${generated.status} ${JSON.stringify(generated.body).slice(0, 200)}`,
    ) ||
    !key
  ) {
    return;
  }
  // The key is on the replica once the replica has replayed its commit (poll the replica itself:
  // the writer may commit asynchronously, so its current WAL position can trail the commit).
  const replicated = await waitFor(
    () =>
      withClient(pair.replica.adminUrl, (c) =>
        c.query("SELECT 1 FROM tandem_verification_token WHERE key_alias = $1", [alias]).then((r) => r.rowCount ?? 0),
      ),
    (n) => n > 0,
    10_000,
    50,
  );
  check("the new key reached the replica (streaming replication)", replicated === 1);
  // tandem reads a key it has just written from the writer (read-your-writes) until its health cycle
  // has seen the replica replay it: wait for that event before proving where lookups run.
  await waitFor(
    async () => {
      const before = await keySelects(pair.replica);
      await http(base, `/key/info?key=${encodeURIComponent(key)}`, { headers: admin() });
      return (await keySelects(pair.replica)) - before;
    },
    (n) => n > 0,
    30_000,
    100,
  );
  const lookups = 5;
  const [readerBefore, writerBefore] = [await keySelects(pair.replica), await keySelects(pair.primary)];
  let info: Http | undefined;
  for (let i = 0; i < lookups; i++) info = await http(base, `/key/info?key=${encodeURIComponent(key)}`, { headers: admin() });
  const [readerAfter, writerAfter] = [await keySelects(pair.replica), await keySelects(pair.primary)];
  const infoBody = info?.body as { info?: { key_alias?: string; max_budget?: number } } | undefined;
  check(
    "GET /key/info returns the generated key",
    info?.status === 200 && infoBody?.info?.key_alias === alias && infoBody.info.max_budget === 10,
    `${info?.status} ${JSON.stringify(info?.body).slice(0, 200)}`,
  );
  check(
    `key lookups ran on the replica (pg_stat_statements on each server)`,
    readerAfter - readerBefore >= lookups && writerAfter === writerBefore,
    `${lookups} lookups: replica +${readerAfter - readerBefore} key SELECTs, primary +${writerAfter - writerBefore}`,
  );
  const [onPrimary, onReplica] = [await applicationNames(pair.primary), await applicationNames(pair.replica)];
  check(
    "pg_stat_activity: tandem-writer connected to the primary, tandem-reader to the replica",
    onPrimary.includes("tandem-writer") && onReplica.includes("tandem-reader") && !onReplica.includes("tandem-writer"),
    `primary: ${onPrimary.join(",") || "-"}; replica: ${onReplica.join(",") || "-"}`,
  );
  const metrics = await http(base, "/metrics");
  const readerQueries = /tandem_db_queries_total\{[^}]*endpoint="reader"[^}]*\} (\d+)/.exec(String(metrics.body));
  check(
    "/metrics counts reader queries",
    metrics.status === 200 && Number(readerQueries?.[1] ?? 0) >= lookups,
    `tandem_db_queries_total{endpoint="reader"} = ${readerQueries?.[1] ?? "absent"}`,
  );

  // --- replica outage -----------------------------------------------------------------------
  await replicaOutage("outage 1", pair, base, key, "fast");
  await replicaOutage("outage 2", pair, base, key, "immediate");

  // --- health check, logs, SIGTERM ----------------------------------------------------------
  const health = await waitFor(
    async () => docker(["inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", name]).out,
    (s) => s === "healthy",
    40_000,
    1000,
  );
  check("Docker HEALTHCHECK reports healthy", health === "healthy", health ?? "no status");

  const stopStarted = Date.now();
  const stopped = await dockerAsync(["stop", "-t", String(STOP_GRACE_S), name], (STOP_GRACE_S + 15) * 1000);
  const stopMs = Date.now() - stopStarted;
  const exitCode = docker(["inspect", "-f", "{{.State.ExitCode}}", name]).out;
  const logs = docker(["logs", name], { allowFail: true }).out;
  const logFile = join(tmpdir(), `tandem-container-test-${process.pid}.log`);
  writeFileSync(logFile, `${logs}\n`);
  console.log(`# container logs: ${logFile}`);
  check(
    "docker stop (SIGTERM) -> exit 0 within the drain timeout",
    stopped.code === 0 && exitCode === "0" && stopMs < SHUTDOWN_TIMEOUT_MS + 5000,
    `exit ${exitCode} after ${stopMs} ms (drain timeout ${SHUTDOWN_TIMEOUT_MS} ms, SIGKILL at ${STOP_GRACE_S} s)`,
  );
  const tail = logs.split("\n").slice(-3).join(" | ").slice(0, 600);
  check(
    "shutdown logged (signal received ... shutdown complete)",
    /signal received/.test(logs) && /shutdown complete/.test(logs),
    `last lines: ${tail}`,
  );
  const leaked = [pair.appPassword, MASTER_KEY].filter((secret) => logs.includes(secret));
  check("container logs contain no database password or master key", leaked.length === 0, `${logs.split("\n").length} log lines`);
  const jsonLines = logs.split("\n").filter((l) => l.trim() !== "");
  check(
    "logs are JSON lines",
    jsonLines.length > 0 && jsonLines.every((l) => l.startsWith("{")),
    jsonLines.find((l) => !l.startsWith("{"))?.slice(0, 120) ?? "",
  );

  pair.stop();
}

const started = Date.now();
main()
  .catch((error: unknown) =>
    check("container test ran to the end", false, error instanceof Error ? (error.stack ?? error.message) : String(error)),
  )
  .finally(() => {
    const failed = results.filter((r) => !r.ok).length;
    console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`container-test: ${results.length - failed} passed, ${failed} failed`);
    process.exit(failed === 0 && results.length > 0 ? 0 : 1);
  });
