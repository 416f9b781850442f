// What a fleet costs its Redis, and each pod, per request. Closed-loop load
// (autocannon) of non-streaming chat completions with one key that carries
// rpm, tpm, max_parallel_requests and a budget (all far above the load: every
// check runs, none refuses), in interleaved rounds:
//   one pod       one tandem without Redis (limits and budget in its memory): the baseline
//   three pods    three tandem processes sharing one local redis-server, the load split evenly
// Per side: total req/s, failures, each pod's CPU ms per request (/proc); for
// the fleet, Redis's commands per request (INFO: commands inside scripts
// included) and its own CPU per request, and what one Redis core would then
// carry. Ratios are against the one pod of the same run. All processes share
// this machine's cores, so the fleet's req/s says little about a real fleet's
// (each pod would have cores of its own); the per-request costs are the point.
//   npm run bench:fleet      ROUNDS=3 DURATION_S=5 CONNECTIONS=48 override
import autocannon from "autocannon";
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { startMigratedPair } from "../test-support/pair.js";
import { redisWork, startRedis } from "../test-support/redis.js";
import { benchConfig, cpuMs, fmt, median, startBenchTandem, startChild } from "./bench-support.js";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION_S = Number(process.env.DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 48);
const PODS = 3;
const MASTER_KEY = "sk-bench-master";
const MODEL = "bench-model";

interface Side {
  rps: number;
  failed: number;
  /** CPU per request of each pod, ms. */
  podCpuMs: number[];
  redisOps?: number;
  redisCpuMs?: number;
}

const pair = await startMigratedPair();
const redis = await startRedis();
const children: ChildProcess[] = [];
try {
  const upstream = await startChild(["--import", "tsx", "app/bench/upstream-process.ts"], { ...process.env, PORT: "0" });
  children.push(upstream.child);
  const configFile = benchConfig(MODEL, upstream.firstLine.trim());
  const startTandem = async (env: Record<string, string> = {}) => {
    const { child, base } = await startBenchTandem({
      pair,
      configFile,
      masterKey: MASTER_KEY,
      args: ["--max-old-space-size=256", "dist/app/cli.js"],
      children,
      env,
    });
    return { pid: child.pid!, base };
  };
  const single = await startTandem();
  const fleet = await Promise.all(Array.from({ length: PODS }, () => startTandem({ REDIS_URL: redis.url })));

  const res = await fetch(`${single.base}/key/generate`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ models: [MODEL], rpm_limit: 2e9, tpm_limit: 2e9, max_parallel_requests: 100_000, max_budget: 1e9 }),
  });
  const key = ((await res.json()) as { key: string }).key;
  await pair.waitForReplay();
  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hello from the benchmark" }] });
  const load = (base: string, connections: number, duration = DURATION_S) =>
    autocannon({
      url: `${base}/v1/chat/completions`,
      method: "POST",
      connections,
      duration,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    });
  const watcher = new Redis(redis.url);

  async function run(pods: Array<{ pid: number; base: string }>, withRedis: boolean): Promise<Side> {
    const cpuBefore = pods.map((p) => cpuMs(p.pid));
    const redisBefore = withRedis ? await redisWork(watcher) : undefined;
    const results = await Promise.all(pods.map((p) => load(p.base, Math.max(1, Math.round(CONNECTIONS / pods.length)))));
    const redisAfter = withRedis ? await redisWork(watcher) : undefined;
    const ok = results.reduce((n, r) => n + r["2xx"], 0);
    const side: Side = {
      rps: ok / DURATION_S,
      failed: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      podCpuMs: pods.map((p, i) => (cpuMs(p.pid) - cpuBefore[i]!) / Math.max(1, results[i]!["2xx"])),
    };
    if (redisBefore && redisAfter && ok > 0) {
      // The watcher's two INFO calls are among the commands.
      side.redisOps = (redisAfter.commands - redisBefore.commands - 2) / ok;
      side.redisCpuMs = (redisAfter.cpuMs - redisBefore.cpuMs) / ok;
    }
    return side;
  }

  // Warm-up: JIT, pools, keep-alive sockets, the key cached on every pod.
  for (const pod of [single, ...fleet]) await load(pod.base, 4, 1);
  const singles: Side[] = [];
  const fleets: Side[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side runs first, so neither always meets a cool machine.
    if (round % 2 === 0) {
      singles.push(await run([single], false));
      fleets.push(await run(fleet, true));
    } else {
      fleets.push(await run(fleet, true));
      singles.push(await run([single], false));
    }
  }
  watcher.disconnect();

  const m = (sides: Side[], f: (s: Side) => number | undefined) => median(sides.map(f).filter((x): x is number => x !== undefined));
  const baseRps = m(singles, (s) => s.rps);
  const baseCpu = m(singles, (s) => s.podCpuMs[0]);
  const redisCpu = m(fleets, (s) => s.redisCpuMs);
  console.log(`fleet benchmark: ${ROUNDS} interleaved rounds × ${DURATION_S} s, ${CONNECTIONS} connections in all; medians over rounds`);
  console.log(
    "side                     req/s  ×one pod  failed  pod cpu ms/req           redis ops/req  redis cpu ms/req  one Redis core, req/s",
  );
  console.log(
    `${"one pod, no Redis".padEnd(22)} ${fmt(baseRps, 0).padStart(7)}  ${"1.00".padStart(8)}  ${String(singles.reduce((n, s) => n + s.failed, 0)).padStart(6)}  ${fmt(baseCpu, 3).padStart(14)}`,
  );
  const podCpu = Array.from({ length: PODS }, (_, i) => m(fleets, (s) => s.podCpuMs[i]));
  console.log(
    `${`${PODS} pods, one Redis`.padEnd(22)} ${fmt(
      m(fleets, (s) => s.rps),
      0,
    ).padStart(7)}  ${fmt(m(fleets, (s) => s.rps) / baseRps, 2).padStart(8)}  ` +
      `${String(fleets.reduce((n, s) => n + s.failed, 0)).padStart(6)}  ${podCpu
        .map((c) => fmt(c, 3))
        .join(" / ")
        .padStart(22)}  ` +
      `${fmt(
        m(fleets, (s) => s.redisOps),
        1,
      ).padStart(13)}  ${fmt(redisCpu, 4).padStart(16)}  ${fmt(1000 / redisCpu, 0).padStart(21)}`,
  );
  console.log(`pod CPU per request with Redis / without: ×${fmt(median(podCpu) / baseCpu, 2)}`);
} finally {
  for (const child of children) child.kill("SIGKILL");
  await redis.stop();
  pair.stop();
}
