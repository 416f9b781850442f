// The replica goes away during a burst of completions: no request fails, the
// pod stays ready, and the metrics tell the story.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startProxy, type Proxy } from "../test-support/proxy.js";
import { assertNoSecrets } from "../test-support/pair.js";

function metric(text: string, name: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

describe("completions during a read replica outage", () => {
  let proxy: Proxy;
  let key: string;

  before(async () => {
    proxy = await startProxy({ DATABASE_HEALTH_CHECK_INTERVAL_MS: "500" });
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    await proxy.pair.waitForReplay();
  });
  after(async () => {
    await proxy?.logs.flush();
    if (proxy) assertNoSecrets(proxy.logs.lines, [proxy.pair.appPassword, key]);
    await proxy?.stop();
  });

  it("the reader is stopped under a burst: zero failed requests, readiness 200 with reader degraded, metrics show the fallback; back to connected when it returns", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
    const deadline = Date.now() + 3000;
    let ok = 0;
    const failures: string[] = [];
    const burst = Promise.all(
      Array.from({ length: 6 }, async () => {
        while (Date.now() < deadline) {
          try {
            const c = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] });
            assert.equal(c.choices[0]?.message.content, "echo: hello world");
            ok++;
          } catch (error) {
            failures.push(String(error));
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 700));
    proxy.pair.replica.stop("immediate");
    await burst;
    console.log(`# ${ok} completions during the outage burst, ${failures.length} failed`);
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `made progress: ${ok}`);

    const readiness = await fetch(`${proxy.base}/health/readiness`);
    assert.equal(readiness.status, 200);
    assert.deepEqual(await readiness.json(), { status: "healthy", db: { writer: "connected", reader: "degraded" } });

    const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
    assert.equal(metric(metrics, "tandem_db_reader_degraded"), 1);
    assert.ok(metric(metrics, "tandem_db_read_fallbacks_total") > 0);
    assert.ok(metric(metrics, 'tandem_db_queries_total{endpoint="reader"}') > 0, "reads ran on the reader before the outage");
    assert.match(metrics, /tandem_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="200"\} \d+/);
    assert.match(
      metrics,
      /tandem_http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/v1\/chat\/completions",status="200"\}/,
    );

    proxy.pair.replica.start();
    const back = Date.now();
    while (Date.now() - back < 3000) {
      const r = (await (await fetch(`${proxy.base}/health/readiness`)).json()) as { db: { reader: string } };
      if (r.db.reader === "connected") break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const after = await (await fetch(`${proxy.base}/metrics`)).text();
    assert.equal(metric(after, "tandem_db_reader_degraded"), 0);
  });

  it("readiness is 503 only when the writer is unreachable", async () => {
    proxy.pair.primary.stop("fast");
    try {
      const res = await fetch(`${proxy.base}/health/readiness`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { db: { writer: string } }).db.writer, "disconnected");
      const live = await fetch(`${proxy.base}/health/liveliness`);
      assert.equal(live.status, 200);
    } finally {
      proxy.pair.primary.start();
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await fetch(`${proxy.base}/health/readiness`)).status, 200);
  });
});
