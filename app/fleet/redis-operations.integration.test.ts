// What one request costs the fleet's Redis, counted by Redis itself
// (INFO commandstats: every command, those inside scripts included), per
// feature a key carries. The fleet's Redis is one core for every pod: its
// operations per request bound the fleet's throughput however many pods run.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { startFakeUpstream, type FakeUpstream } from "../dev/fake-upstream.js";
import { startMigratedPair, type LocalPair } from "../test-support/pair.js";
import { serve, type TandemProcess } from "../test-support/process.js";
import { MASTER_KEY, modelConfig } from "../test-support/proxy.js";
import { commandCalls, redisWork, startRedis, type RedisServer } from "../test-support/redis.js";

const REQUESTS = 400;
const CONCURRENCY = 16;

interface Cost {
  /** Commands per request, scripts' inner commands counted. */
  operations: number;
  /** Script calls (EVALSHA/EVAL) per request: round trips that carry work. */
  scripts: number;
  /** Redis's own CPU per request beyond an idle pod's, ms (INFO cpu). */
  cpuMs: number;
  byCommand: Record<string, number>;
}

describe("Redis operations per request", () => {
  let pair: LocalPair;
  let upstream: FakeUpstream;
  let redis: RedisServer;
  let pod: TandemProcess;
  let watcher: Redis;
  const costs: Record<string, Cost> = {};

  before(async () => {
    [pair, upstream, redis] = await Promise.all([startMigratedPair(), startFakeUpstream(), startRedis()]);
    const configFile = join(mkdtempSync(join(tmpdir(), "tandem-redis-ops-")), "config.yaml");
    writeFileSync(configFile, modelConfig(upstream.url));
    pod = await serve({
      DATABASE_URL: pair.primary.url,
      DATABASE_URL_READ_REPLICA: pair.replica.url,
      MASTER_KEY,
      CONFIG_FILE: configFile,
      FAKE_UPSTREAM_KEY: "sk-upstream-secret",
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: "1000",
      PORT: "0",
      SPEND_FLUSH_INTERVAL_MS: "200",
    });
    watcher = new Redis(redis.url);
  });
  after(async () => {
    console.log(
      [
        "| feature | operations / request | script calls / request | Redis CPU ms / request |",
        "|---|---|---|---|",
        ...Object.entries(costs).map(
          ([feature, c]) => `| ${feature} | ${c.operations.toFixed(1)} | ${c.scripts.toFixed(2)} | ${c.cpuMs.toFixed(4)} |`,
        ),
      ].join("\n"),
    );
    for (const [feature, c] of Object.entries(costs)) console.log(feature, JSON.stringify(c.byCommand));
    watcher?.disconnect();
    pod?.child.kill("SIGTERM");
    await pod?.exit;
    await redis?.stop();
    await upstream?.close();
    pair?.stop();
  });

  const base = () => `http://127.0.0.1:${pod.port}`;
  async function newKey(settings: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${base()}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(settings),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { key: string }).key;
  }
  async function load(key: string, requests: number, concurrency: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        next++;
        const res = await fetch(`${base()}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
        });
        assert.equal(res.status, 200, await res.text());
        await res.arrayBuffer().catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** Runs the requests, waits for their settlements and spend writes, and counts what Redis did beyond an idle pod. */
  async function measure(feature: string, settings: Record<string, unknown>, concurrency = CONCURRENCY): Promise<Cost> {
    const key = await newKey(settings);
    await load(key, 4, 1); // the key cached, its first cost known
    await new Promise((r) => setTimeout(r, 1000));
    await watcher.config("RESETSTAT");
    const started = Date.now();
    const cpuBefore = (await redisWork(watcher)).cpuMs;
    await load(key, REQUESTS, concurrency);
    await new Promise((r) => setTimeout(r, 1500));
    const elapsed = Date.now() - started;
    const busy = await commandCalls(watcher);
    const busyCpu = (await redisWork(watcher)).cpuMs - cpuBefore;
    // The same time idle: heartbeats and probes are the pod's, not the requests'.
    await watcher.config("RESETSTAT");
    const idleBefore = (await redisWork(watcher)).cpuMs;
    await new Promise((r) => setTimeout(r, elapsed));
    const idle = await commandCalls(watcher);
    const idleCpu = (await redisWork(watcher)).cpuMs - idleBefore;
    const byCommand: Record<string, number> = {};
    let operations = 0;
    for (const [name, calls] of busy) {
      if (name === "config" || name === "info") continue;
      const net = calls - (idle.get(name) ?? 0);
      if (net <= 0) continue;
      byCommand[name] = Math.round((net / REQUESTS) * 100) / 100;
      operations += net;
    }
    const scripts = (byCommand.evalsha ?? 0) + (byCommand.eval ?? 0);
    const cost = { operations: operations / REQUESTS, scripts, cpuMs: Math.max(0, busyCpu - idleCpu) / REQUESTS, byCommand };
    costs[feature] = cost;
    return cost;
  }

  it("a key with no limits and no budget", async () => {
    await measure("key, nothing limited", {});
  });
  it("rpm_limit", async () => {
    await measure("rpm", { rpm_limit: 1_000_000 });
  });
  it("tpm_limit", async () => {
    await measure("tpm", { tpm_limit: 1_000_000_000 });
  });
  it("max_parallel_requests", async () => {
    await measure("parallel", { max_parallel_requests: 1000 });
  });
  it("max_budget", async () => {
    await measure("budget", { max_budget: 1000 });
  });
  const everything = { rpm_limit: 1_000_000, tpm_limit: 1_000_000_000, max_parallel_requests: 1000, max_budget: 1000 };
  it("a key with rpm + tpm + parallel + budget, 16 clients at once: at most 10 operations and 2 script calls per request", async () => {
    const cost = await measure("rpm + tpm + parallel + budget", everything);
    assert.ok(cost.operations <= 10, `${cost.operations} operations per request: ${JSON.stringify(cost.byCommand)}`);
    assert.ok(cost.scripts <= 2, `${cost.scripts} script calls per request`);
  });
  it("the same key, one request at a time (nothing to batch): at most 10 operations and 2 script calls per request", async () => {
    const cost = await measure("rpm + tpm + parallel + budget, sequential", everything, 1);
    assert.ok(cost.operations <= 10, `${cost.operations} operations per request: ${JSON.stringify(cost.byCommand)}`);
    assert.ok(cost.scripts <= 2.1, `${cost.scripts} script calls per request`);
  });
});
