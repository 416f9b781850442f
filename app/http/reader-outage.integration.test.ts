// The replica goes away during a burst of completions: no request fails, the
// pod stays ready, and the metrics tell the story.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import pg from "pg";
import { eventually, startProxy, type Proxy } from "../test-support/proxy.js";
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
    proxy = await startProxy({ DATABASE_HEALTH_CHECK_INTERVAL_MS: "500", KEY_CACHE_TTL_MS: "0" });
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    await proxy.caughtUp();
  });
  after(async () => {
    await proxy?.logs.flush();
    if (proxy) assertNoSecrets(proxy.logs.lines, [proxy.pair.appPassword, key]);
    await proxy?.stop();
  });

  it("the reader is stopped under a burst: zero failed requests, readiness 200 with reader degraded, metrics show the fallback; back to connected when it returns", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
    // The burst runs until enough completions have been served with the reader
    // down (or a generous bound passes): events, not a fixed time, so a busy
    // machine only makes the test slower.
    let ok = 0;
    let okAtStop = Number.POSITIVE_INFINITY; // set when the reader is stopped
    const failures: string[] = [];
    const bound = Date.now() + 60_000;
    const enoughAfterStop = () => ok - okAtStop >= 20;
    const burst = Promise.all(
      Array.from({ length: 6 }, async () => {
        while (!enoughAfterStop() && Date.now() < bound) {
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
    await eventually(
      async () => ok,
      (n) => n >= 5,
      60_000,
    );
    proxy.pair.replica.stop("immediate");
    okAtStop = ok;
    await burst;
    console.log(`# ${ok} completions during the outage burst (${ok - okAtStop} after the stop), ${failures.length} failed`);
    assert.deepEqual(failures, []);
    assert.ok(enoughAfterStop(), `completions served after the reader stopped: ${ok - okAtStop}`);

    const readiness = await fetch(`${proxy.base}/health/readiness`);
    assert.equal(readiness.status, 200);
    // The contract's fields (LiteLLM's litellm_version, cache and success_callbacks come beside them).
    const { status, db, redis } = (await readiness.json()) as Record<string, unknown>;
    assert.deepEqual({ status, db, redis }, { status: "healthy", db: { writer: "connected", reader: "degraded" }, redis: "disabled" });

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
    await eventually(
      async () => ((await (await fetch(`${proxy.base}/health/readiness`)).json()) as { db: { reader: string } }).db.reader,
      (reader) => reader === "connected",
      30_000,
    );
    const after = await (await fetch(`${proxy.base}/metrics`)).text();
    assert.equal(metric(after, "tandem_db_reader_degraded"), 0);
  });

  it("readiness is 503 only when the writer is unreachable (noticed by the health cycle)", async () => {
    proxy.pair.primary.stop("fast");
    try {
      const body = await eventually(
        async () => {
          const res = await fetch(`${proxy.base}/health/readiness`);
          return { status: res.status, json: (await res.json()) as { db: { writer: string } } };
        },
        (r) => r.status === 503,
        30_000,
      );
      assert.equal(body.json.db.writer, "disconnected");
      const live = await fetch(`${proxy.base}/health/liveliness`);
      assert.equal(live.status, 200);
    } finally {
      proxy.pair.primary.start();
    }
    await eventually(
      async () => (await fetch(`${proxy.base}/health/readiness`)).status,
      (status) => status === 200,
      30_000,
    );
  });

  it("readiness answers from the health cycle's state: 100 calls open no database sessions of their own", async () => {
    const sessions = async () => {
      const client = new pg.Client({ connectionString: proxy.pair.primary.adminUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>("SELECT sum(sessions)::text AS n FROM pg_stat_database");
        return Number(rows[0]?.n ?? 0);
      } finally {
        await client.end();
      }
    };
    const before = await sessions();
    for (let i = 0; i < 100; i++) assert.equal((await fetch(`${proxy.base}/health/readiness`)).status, 200);
    // Session counts are published when sessions end: give the last probes a moment.
    await new Promise((r) => setTimeout(r, 1500));
    const opened = (await sessions()) - before;
    // Health probes (one per 500 ms interval) and this test's own witness sessions only.
    assert.ok(opened < 50, `${opened} sessions opened on the writer during 100 readiness calls`);
  });
});
