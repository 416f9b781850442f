// A budget holds under concurrency: waves of 50 concurrent requests against a
// budget worth 5 serve at most 6 in all — also while the replica's replay is
// paused, so the spend it shows is stale.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, PRICES, startProxy, type Proxy } from "../test-support/proxy.js";
import { pauseReplay, resumeReplay } from "../test-support/faults.js";

// The fake upstream counts words: "hello world" → 2 prompt tokens, "echo: hello world" → 3 completion tokens.
const COST = 2 * PRICES.input + 3 * PRICES.output;

describe("budgets under concurrency", () => {
  let proxy: Proxy;

  before(async () => {
    proxy = await startProxy({ DATABASE_READ_REPLICA_MAX_LAG_MS: "600000", SPEND_FLUSH_INTERVAL_MS: "200" });
  });
  after(async () => {
    await resumeReplay(proxy.pair.replica).catch(() => undefined);
    await proxy?.stop();
  });

  async function budgetKey(): Promise<string> {
    const res = await fetch(`${proxy.base}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ models: ["gpt-4o-mini"], max_budget: 5 * COST + COST / 2 }),
    });
    return ((await res.json()) as { key: string }).key;
  }

  /** Waves of 50 concurrent completions until one is refused whole as over budget; returns how many were served. */
  async function waves(key: string): Promise<{ served: number; waves: number; statuses: Record<number, number> }> {
    let served = 0;
    const statuses: Record<number, number> = {};
    for (let wave = 1; wave <= 30; wave++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${proxy.base}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] }),
          }).then(async (r) => {
            await r.text();
            return r.status;
          }),
        ),
      );
      for (const status of results) statuses[status] = (statuses[status] ?? 0) + 1;
      served += results.filter((s) => s === 200).length;
      assert.deepEqual(
        results.filter((s) => ![200, 400, 429].includes(s)),
        [],
        "only served, over budget (400) or budget reserved by requests in flight (429)",
      );
      if (results.every((s) => s === 400)) return { served, waves: wave, statuses };
    }
    throw new Error(`the budget never ran out: ${served} served`);
  }

  it("a key's first requests at once, before any cost is known: the later ones wait for the first, none is refused", async () => {
    const res = await fetch(`${proxy.base}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ models: ["slow-model"], max_budget: 1000 }),
    });
    const { key } = (await res.json()) as { key: string };
    // slow-model streams a word every 100 ms: the first request holds the whole budget for about a second.
    const statuses = await Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${proxy.base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "slow-model", stream: true, messages: [{ role: "user", content: "one two three four five" }] }),
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    assert.deepEqual(statuses, [200, 200, 200]);
  });

  it("waves of 50 concurrent requests at a budget worth 5 serve at most 6, and the budget is usable (at least 5)", async () => {
    await proxy.caughtUp();
    const key = await budgetKey();
    const result = await waves(key);
    console.log(`# budget worth 5: ${result.served} served over ${result.waves} waves of 50; statuses ${JSON.stringify(result.statuses)}`);
    assert.ok(result.served >= 5 && result.served <= 6, `served ${result.served}`);
  });

  it("the same with the replica's replay paused (the spend it shows is stale): at most 6", async () => {
    const key = await budgetKey();
    await proxy.caughtUp();
    await pauseReplay(proxy.pair.replica);
    try {
      const result = await waves(key);
      console.log(`# replay paused: ${result.served} served over ${result.waves} waves`);
      assert.ok(result.served >= 5 && result.served <= 6, `served ${result.served}`);
    } finally {
      await resumeReplay(proxy.pair.replica);
    }
  });
});
