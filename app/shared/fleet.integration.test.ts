// Three tandem processes on one database and one real redis-server behave as
// one proxy: a key's and a team's rpm limit hold across the fleet, a key
// deleted on one pod is refused by the others at once, and a Redis that hangs
// or dies fails no request — each pod falls back to its own limits and comes
// back to the shared ones by itself.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startFakeUpstream, type FakeUpstream } from "../dev/fake-upstream.js";
import { assertNoSecrets, startMigratedPair, type LocalPair } from "../test-support/pair.js";
import { serve, type TandemProcess } from "../test-support/process.js";
import { MASTER_KEY, modelConfig, modelEntry } from "../test-support/proxy.js";
import { startRedis, type RedisServer } from "../test-support/redis.js";
import { until } from "../test-support/load.js";

const PODS = 3;

describe("a fleet of three tandem processes sharing one Redis", () => {
  let pair: LocalPair;
  let upstream: FakeUpstream;
  let redis: RedisServer;
  let pods: TandemProcess[] = [];
  const base = (i: number) => `http://127.0.0.1:${pods[i % PODS]!.port}`;

  before(async () => {
    [pair, upstream, redis] = await Promise.all([startMigratedPair(), startFakeUpstream(), startRedis()]);
    const configFile = join(mkdtempSync(join(tmpdir(), "tandem-fleet-")), "config.yaml");
    writeFileSync(
      configFile,
      modelConfig(upstream.url, 30, {
        models: [
          ...modelEntry("flaky", "fail-500", upstream.url, { id: "flaky-down" }),
          ...modelEntry("flaky", "echo", upstream.url, { id: "flaky-up" }),
        ],
        sections: "router_settings:\n  allowed_fails: 1\n  cooldown_time: 600\n",
      }),
    );
    const env = {
      DATABASE_URL: pair.primary.url,
      DATABASE_URL_READ_REPLICA: pair.replica.url,
      MASTER_KEY,
      CONFIG_FILE: configFile,
      FAKE_UPSTREAM_KEY: "sk-upstream-secret",
      REDIS_URL: redis.url,
      // Two cores running the whole suite can stall a 50 ms command; a pod that falls back to its own
      // limits for a moment would make the counts below approximate.
      REDIS_COMMAND_TIMEOUT_MS: "250",
      PORT: "0",
      DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
      SPEND_FLUSH_INTERVAL_MS: "200",
    };
    pods = await Promise.all(Array.from({ length: PODS }, () => serve(env)));
  });
  after(async () => {
    for (const pod of pods) pod.child.kill("SIGTERM");
    await Promise.all(pods.map((pod) => pod.exit));
    assertNoSecrets(
      pods.flatMap((p) => p.lines),
      [pair.appPassword, MASTER_KEY],
    );
    await redis?.stop();
    await upstream?.close();
    pair?.stop();
  });

  const admin = async (i: number, path: string, body?: unknown) => {
    const res = await fetch(`${base(i)}${path}`, {
      method: body ? "POST" : "GET",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const chat = async (i: number, key: string, model = "gpt-4o-mini") => {
    const res = await fetch(`${base(i)}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const readiness = async (i: number) => ((await (await fetch(`${base(i)}/health/readiness`)).json()) as { redis: string }).redis;

  /** `n` completions spread round-robin over the pods, 6 at a time; the statuses. */
  async function spread(key: string, n: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i += 6) {
      statuses.push(...(await Promise.all(Array.from({ length: Math.min(6, n - i) }, (_, j) => chat(i + j, key)))));
    }
    return statuses;
  }
  const served = (statuses: number[]) => statuses.filter((s) => s === 200).length;
  /** Redis commands that failed or passed their bound, summed over the pods. */
  async function redisFailures(): Promise<number> {
    let total = 0;
    for (let i = 0; i < PODS; i++) {
      const text = await (await fetch(`${base(i)}/metrics`)).text();
      for (const line of text.split("\n")) if (line.startsWith("tandem_redis_failures_total{")) total += Number(line.split(" ").pop());
    }
    return total;
  }

  it("every pod reports Redis connected", async () => {
    for (let i = 0; i < PODS; i++) assert.equal(await readiness(i), "connected");
  });

  it("a key with rpm_limit 30 gets 90 requests over 3 pods within a minute: 30 (±1) served, the rest 429", async () => {
    const key = (await admin(0, "/key/generate", { models: ["gpt-4o-mini"], rpm_limit: 30 })).json.key as string;
    const statuses = await spread(key, 90);
    assert.ok(Math.abs(served(statuses) - 30) <= 1, `served ${served(statuses)}: ${JSON.stringify(statuses)}`);
    assert.deepEqual([...new Set(statuses)].sort(), [200, 429]);
  });

  it("a team's rpm_limit holds across pods for all its keys together", async () => {
    const team = (await admin(1, "/team/new", { team_alias: "fleet-team", rpm_limit: 12 })).json.team_id as string;
    const keys = await Promise.all([0, 1].map(async () => (await admin(2, "/key/generate", { team_id: team })).json.key as string));
    const statuses = (await Promise.all(keys.map((key) => spread(key, 18)))).flat();
    assert.ok(Math.abs(served(statuses) - 12) <= 1, `served ${served(statuses)}: ${JSON.stringify(statuses)}`);
  });

  it("a key deleted on pod 1 is refused by pods 2 and 3 within 200 ms (their key caches dropped it)", async () => {
    const key = (await admin(0, "/key/generate", { models: ["gpt-4o-mini"] })).json.key as string;
    // Pods 2 and 3 have the key in their caches.
    assert.deepEqual([await chat(1, key), await chat(2, key)], [200, 200]);
    assert.deepEqual([await chat(1, key), await chat(2, key)], [200, 200]);
    const deleted = await admin(0, "/key/delete", { keys: [key] });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([await chat(1, key), await chat(2, key)], [401, 401]);
  });

  it("a deployment that fails past allowed_fails on pod 1 is not called by pods 2 and 3 during its cooldown", async () => {
    const key = (await admin(0, "/key/generate", {})).json.key as string;
    const failing = () => upstream.requests.filter((r) => r.body.model === "fail-500").length;
    const ask = (i: number) => chat(i, key, "flaky");
    // Pod 1 alone: allowed_fails 1, so the second failure within a minute cools the deployment down.
    for (let i = 0; i < 20 && failing() < 2; i++) assert.equal(await ask(0), 200);
    assert.equal(failing(), 2, "pod 1 saw two failures");
    await new Promise((r) => setTimeout(r, 200));
    const before = failing();
    for (let i = 0; i < 30; i++) assert.equal(await ask(1 + (i % 2)), 200);
    assert.equal(failing() - before, 0, "pods 2 and 3 never called the cooling deployment");
  });

  it("Redis SIGSTOPped under load, then killed and restarted: 0 failed requests, p99 ≤ 1 s, degraded then connected, shared limits hold again", async () => {
    const key = (await admin(0, "/key/generate", { models: ["gpt-4o-mini"] })).json.key as string;
    let running = true;
    const latencies: number[] = [];
    const failures: number[] = [];
    const loops = Array.from({ length: 6 }, async (_, w) => {
      for (let i = w; running; i += 6) {
        const t0 = performance.now();
        const status = await chat(i, key);
        latencies.push(performance.now() - t0);
        if (status !== 200) failures.push(status);
      }
    });
    const seen = new Set<string>();
    try {
      await until(() => latencies.length >= 30, "requests before the fault");
      redis.freeze();
      try {
        await until(async () => (await readiness(0)) === "degraded", "readiness shows Redis degraded");
        seen.add("degraded");
        const during = latencies.length;
        await until(() => latencies.length >= during + 100, "requests served while Redis hangs");
      } finally {
        redis.thaw();
      }
      await until(async () => (await readiness(0)) === "connected", "connected again after SIGCONT");
      await redis.kill();
      await until(async () => (await readiness(1)) === "degraded", "degraded while Redis is dead");
      const dead = latencies.length;
      await until(() => latencies.length >= dead + 100, "requests served while Redis is dead");
      await redis.start();
      for (let i = 0; i < PODS; i++) await until(async () => (await readiness(i)) === "connected", `pod ${i + 1} connected again`);
      seen.add("connected");
    } finally {
      running = false;
      await Promise.all(loops);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    console.log(`# Redis hung then killed: ${latencies.length} requests, ${failures.length} failed, p99 ${p99.toFixed(0)} ms`);
    assert.deepEqual(failures, []);
    assert.ok(p99 <= 1000, `p99 ${p99.toFixed(0)} ms`);
    assert.deepEqual([...seen], ["degraded", "connected"]);
    // Shared again means: whenever Redis answers within its bound, the fleet counts as one. A command
    // that a busy machine stalls past the bound rightly sends its pod to its own limits for a moment,
    // so a spread that saw one is repeated with a fresh key rather than counted.
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const failuresBefore = await redisFailures();
      const limited = (await admin(2, "/key/generate", { models: ["gpt-4o-mini"], rpm_limit: 30 })).json.key as string;
      const again = served(await spread(limited, 90));
      const failed = (await redisFailures()) - failuresBefore;
      outcomes.push(`${again} served, ${failed} Redis commands failed`);
      if (failed > 0) continue;
      assert.ok(Math.abs(again - 30) <= 1, `the shared limit holds again: ${outcomes.join("; ")}`);
      return;
    }
    assert.fail(`Redis never answered a whole spread within its bound: ${outcomes.join("; ")}`);
  });
});
