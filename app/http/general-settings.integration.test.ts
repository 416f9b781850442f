// LiteLLM's general_settings that size the database side: database_connection_pool_limit (each
// endpoint's pool, so many pods stay under max_connections) and proxy_batch_write_at (how often spend
// is written), read from the config file when the environment does not set them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

describe("general_settings: database_connection_pool_limit and proxy_batch_write_at", () => {
  let proxy: Proxy;

  before(async () => {
    proxy = await startProxy(
      {},
      { extraConfig: () => ({ sections: "general_settings:\n  database_connection_pool_limit: 2\n  proxy_batch_write_at: 3600\n" }) },
    );
  });
  after(async () => {
    await proxy?.stop();
  });

  const chat = (key: string) =>
    fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });

  it("database_connection_pool_limit 2: 40 concurrent requests with 40 keys hold the reader's pool to 2 connections", async () => {
    const keys: string[] = [];
    for (let i = 0; i < 40; i++) keys.push(String((await proxy.admin("/key/generate", { body: {} })).json.key));
    await proxy.pair.waitForReplay();
    const replica = new pg.Client({ connectionString: proxy.pair.replica.adminUrl });
    await replica.connect();
    // The pool's connections are the ones that ran key lookups; the health cycle's probes open
    // short-lived connections of their own, which the pool size does not bound.
    const lookups = new Set<number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await replica.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = 'tandem-reader' AND query LIKE 'SELECT "t0"."token"%'`,
        );
        for (const row of rows) lookups.add(row.pid as number);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      // Each key is new to the pod: 40 lookups on the reader at once, which a pool of 10 would spread over 10 connections.
      const statuses = await Promise.all(keys.map(async (key) => (await chat(key)).status));
      assert.deepEqual(new Set(statuses), new Set([200]));
    } finally {
      sampling = false;
      await sampler;
      await replica.end();
    }
    assert.ok(lookups.size >= 1, "the reader served the lookups");
    assert.ok(lookups.size <= 2, `${lookups.size} reader connections ran key lookups`);
  });

  it("proxy_batch_write_at 3600: a completion's spend waits in the pod's queue instead of being written within the second", async () => {
    const before = proxy.tandem.spend.length;
    assert.equal((await chat(MASTER_KEY)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(proxy.tandem.spend.length > before, `queued: ${proxy.tandem.spend.length}`);
  });
});
