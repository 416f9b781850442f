// LiteLLM's response cache (`litellm_settings.cache: true`) on one pod: the
// same request twice is answered once by the upstream; the hit carries
// x-litellm-cache-key, is charged 0 and still has its spend row, marked
// cache_hit. A request can bypass it, keep its answer out of it, or set its
// ttl; streams are not cached.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { until } from "../test-support/load.js";

describe("the response cache (litellm_settings.cache: true)", () => {
  let proxy: Proxy;
  let key: string;

  before(async () => {
    proxy = await startProxy(
      { SPEND_FLUSH_INTERVAL_MS: "100" },
      { extraConfig: () => ({ sections: "litellm_settings:\n  cache: true\n  cache_params:\n    type: local\n    ttl: 600\n" }) },
    );
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
  });
  after(async () => {
    await proxy?.stop();
  });

  let question = 0;
  /** A chat body no earlier test asked. */
  const fresh = (extra: Record<string, unknown> = {}) => ({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: `question ${++question} for the cache` }],
    ...extra,
  });
  const asked = (body: { messages: Array<{ content: string }> }) =>
    proxy.upstream.requests.filter((r) => JSON.stringify(r.body.messages) === JSON.stringify(body.messages)).length;
  async function chat(body: unknown) {
    const res = await fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, cacheKey: res.headers.get("x-litellm-cache-key"), json: (await res.json()) as Record<string, unknown> };
  }
  async function spendRow(requestId: string) {
    let row: Record<string, unknown> | undefined;
    await until(async () => {
      const res = await fetch(`${proxy.base}/spend/logs?request_id=${encodeURIComponent(requestId)}`, {
        headers: { authorization: `Bearer ${MASTER_KEY}` },
      });
      row = ((await res.json()) as Array<Record<string, unknown>>)[0];
      return row !== undefined;
    }, `the spend row of ${requestId}`);
    return row!;
  }

  it("the same request twice: the upstream answers once; the second is a hit with x-litellm-cache-key, charged 0, logged cache_hit", async () => {
    const body = fresh({ temperature: 0 });
    const first = await chat(body);
    const second = await chat(body);
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal(asked(body), 1, "the upstream was called once");
    assert.equal(first.cacheKey, null);
    assert.match(second.cacheKey ?? "", /^tandem:cache:[0-9a-f]{64}$/);
    assert.deepEqual(second.json.choices, first.json.choices);
    assert.notEqual(second.json.id, first.json.id, "each answer has its own id (and spend row)");
    const [missRow, hitRow] = [await spendRow(first.json.id as string), await spendRow(second.json.id as string)];
    assert.ok((missRow.spend as number) > 0);
    assert.deepEqual([missRow.cache_hit, hitRow.cache_hit, hitRow.spend, hitRow.cache_key], ["False", "True", 0, second.cacheKey]);
    assert.equal(hitRow.total_tokens, missRow.total_tokens, "the hit logs the tokens it answered with");
  });

  it('cache: {"no-cache": true} asks the upstream even when an answer is kept', async () => {
    const body = fresh();
    await chat(body);
    const bypass = await chat({ ...body, cache: { "no-cache": true } });
    assert.equal(bypass.cacheKey, null);
    assert.equal(asked(body), 2);
  });

  it('cache: {"no-store": true} keeps the answer out: the next identical request asks the upstream', async () => {
    const body = fresh();
    await chat({ ...body, cache: { "no-store": true } });
    const next = await chat(body);
    assert.equal(next.cacheKey, null);
    assert.equal(asked(body), 2);
  });

  it("cache: {ttl: 1} keeps the answer a second", async () => {
    const body = fresh();
    await chat({ ...body, cache: { ttl: 1 } });
    assert.notEqual((await chat(body)).cacheKey, null, "a hit within the second");
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await chat(body)).cacheKey, null, "a miss after it");
    assert.equal(asked(body), 2);
  });

  it("the cache field never reaches the upstream", async () => {
    const body = fresh({ cache: { ttl: 30 } });
    await chat(body);
    const sent = proxy.upstream.requests.find((r) => JSON.stringify(r.body.messages) === JSON.stringify(body.messages));
    assert.equal(sent?.body.cache, undefined);
  });

  it("streams are not cached: the same stream twice asks the upstream twice", async () => {
    const body = fresh({ stream: true });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.headers.get("x-litellm-cache-key"), null);
      await res.text();
    }
    assert.equal(asked(body), 2);
  });

  it("a malformed cache field is a 400 naming it, and the upstream is not called", async () => {
    const body = fresh({ cache: { ttl: "forever" } });
    const res = await chat(body);
    assert.equal(res.status, 400);
    assert.equal((res.json.error as { param?: string }).param, "cache.ttl");
    assert.equal(asked(body), 0);
  });
});
