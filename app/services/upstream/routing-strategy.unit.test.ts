// LiteLLM's routing strategies: which deployment of a group each one picks,
// from what this pod has seen of them (calls in flight, tokens this minute,
// recent latencies) or what they cost.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "../../config/model-config.js";
import type { RoutingStrategy } from "../../config/routing-strategies.js";
import { choose, DeploymentStats } from "./routing-strategy.js";

const deployment = (id: string, price = 1, weight = 1): Deployment => ({
  id,
  name: "group",
  upstreamModel: id,
  provider: "openai",
  apiBase: `http://${id}/v1`,
  timeoutMs: 1000,
  price: { inputPerToken: price, outputPerToken: price, source: "config" },
  weight,
  mode: "chat",
});

const pool = [deployment("a", 3), deployment("b", 1), deployment("c", 2)];

/** Stats where a has 2 calls in flight, b 1, c 0; a used 50 tokens this minute, b 10, c 900; latencies a 100 ms, b 300, c 104. */
function seen(now = () => 120_000) {
  const stats = new DeploymentStats(now);
  for (const [id, flying] of [
    ["a", 2],
    ["b", 1],
  ] as const)
    for (let i = 0; i < flying; i++) stats.started(id);
  for (const [id, tokens] of [
    ["a", 50],
    ["b", 10],
    ["c", 900],
  ] as const) {
    stats.started(id);
    stats.ended(id, tokens);
  }
  for (const [id, ms] of [
    ["a", 100],
    ["b", 300],
    ["c", 104],
  ] as const)
    stats.answered(id, ms);
  return stats;
}

describe("routing strategies (router_settings.routing_strategy)", () => {
  const cases: Array<{ strategy: RoutingStrategy; buffer?: number; draw?: number; picks: string; why: string }> = [
    { strategy: "simple-shuffle", draw: 0.5, picks: "b", why: "weighted at random: the middle of three equal weights" },
    { strategy: "least-busy", picks: "c", why: "the fewest calls in flight" },
    { strategy: "usage-based-routing-v2", picks: "b", why: "the fewest tokens this minute" },
    { strategy: "usage-based-routing", picks: "b", why: "the same for the first version" },
    { strategy: "latency-based-routing", picks: "a", why: "the fastest recent answers" },
    { strategy: "latency-based-routing", buffer: 0.1, draw: 0.9, picks: "c", why: "lowest_latency_buffer: any within 10% of the fastest" },
    { strategy: "cost-based-routing", picks: "b", why: "the cheapest per token" },
  ];
  for (const c of cases)
    it(`${c.strategy}${c.buffer ? ` (buffer ${c.buffer})` : ""}: ${c.why}`, () => {
      assert.equal(choose(c.strategy, pool, seen(), () => c.draw ?? 0, c.buffer)?.id, c.picks);
    });

  it("latency-based: a deployment not yet measured is tried first, so each gets measured", () => {
    const stats = seen();
    assert.equal(choose("latency-based-routing", [...pool, deployment("new")], stats, () => 0)?.id, "new");
  });

  it("ties go by weight, at random", () => {
    const stats = new DeploymentStats(() => 0);
    const weightedPool = [deployment("light", 1, 1), deployment("heavy", 1, 3)];
    assert.equal(choose("least-busy", weightedPool, stats, () => 0.2)?.id, "light");
    assert.equal(choose("least-busy", weightedPool, stats, () => 0.3)?.id, "heavy");
  });

  it("tokens count for the current minute only; a failure ends its call and counts as a slow answer", () => {
    let now = 0;
    const stats = new DeploymentStats(() => now);
    stats.started("a");
    stats.ended("a", 100);
    assert.equal(stats.tokensThisMinute("a"), 100);
    now += 60_000;
    assert.equal(stats.tokensThisMinute("a"), 0);
    stats.started("b");
    assert.equal(stats.busy("b"), 1);
    stats.failed("b", 20);
    assert.deepEqual([stats.busy("b"), stats.latency("b")], [0, 1000]);
  });

  it("an empty pool picks nothing", () => {
    assert.equal(
      choose("least-busy", [], new DeploymentStats(() => 0), () => 0),
      undefined,
    );
  });
});
