// No outage can lose spend: with the writer stopped (20 s) or hung (SIGSTOP,
// 30 s) under a completion loop, every completion acknowledged to a client
// has exactly one spend row once the writer is back — compared against the
// ids the clients received.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import OpenAI from "openai";
import { eventually, startProxy, type Proxy } from "../test-support/proxy.js";
import { freeze, thaw } from "../test-support/faults.js";
import { hashKey } from "../services/access/key-hash.js";

const STOP_MS = Number(process.env.WRITER_STOP_MS ?? 20_000);
const HANG_MS = Number(process.env.WRITER_HANG_MS ?? 30_000);

describe("spend survives a writer outage", () => {
  let proxy: Proxy;
  let key: string;

  before(async () => {
    proxy = await startProxy({
      DATABASE_HEALTH_CHECK_INTERVAL_MS: "500",
      // A hung writer's statements are given up on sooner, so the retry after it resumes comes soon.
      DATABASE_QUERY_TIMEOUT_MS: "5000",
      SPEND_FLUSH_INTERVAL_MS: "200",
    });
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    await proxy.caughtUp();
  });
  after(async () => {
    if (proxy && !proxy.pair.primary.running()) proxy.pair.primary.start();
    await proxy?.stop();
  });

  /** Completions from 4 loops while `outage` runs; returns the ids the clients were given. */
  async function completionsThrough(outage: () => Promise<void>): Promise<{ ids: string[]; failed: number }> {
    const client = new OpenAI({ apiKey: key, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
    const ids: string[] = [];
    let failed = 0;
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const c = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "bill me" }] });
          ids.push(c.id);
        } catch {
          failed++;
        }
      }
    });
    try {
      await outage();
    } finally {
      running = false;
      await Promise.all(loops);
    }
    return { ids, failed };
  }

  async function rowsFor(ids: string[]): Promise<Map<string, number>> {
    const client = new pg.Client({ connectionString: proxy.pair.primary.adminUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ request_id: string; n: string }>(
        "SELECT request_id, count(*)::text AS n FROM tandem_spend_rows WHERE api_key = $1 AND request_id = ANY($2) GROUP BY request_id",
        [hashKey(key), ids],
      );
      return new Map(rows.map((r) => [r.request_id, Number(r.n)]));
    } finally {
      await client.end();
    }
  }

  async function assertEveryCompletionBilledOnce(ids: string[], what: string): Promise<void> {
    await eventually(
      async () => proxy.tandem.spend.length,
      (n) => n === 0,
      120_000,
    );
    const rows = await rowsFor(ids);
    const missing = ids.filter((id) => !rows.has(id));
    const doubled = [...rows].filter(([, n]) => n !== 1);
    console.log(`# ${what}: ${ids.length} completions acknowledged, ${rows.size} with a spend row`);
    assert.deepEqual(missing, [], `${missing.length} acknowledged completions have no spend row`);
    assert.deepEqual(doubled, [], "no completion is billed twice");
  }

  it(`the writer stopped for ${STOP_MS / 1000} s under load: every acknowledged completion gets exactly one spend row once it is back`, async () => {
    let queuedDuringOutage = 0;
    const { ids } = await completionsThrough(async () => {
      await new Promise((r) => setTimeout(r, 500));
      proxy.pair.primary.stop("fast");
      try {
        await new Promise((r) => setTimeout(r, STOP_MS));
        queuedDuringOutage = proxy.tandem.spend.length;
      } finally {
        proxy.pair.primary.start();
      }
      await new Promise((r) => setTimeout(r, 500));
    });
    assert.ok(queuedDuringOutage > 0, "completions were acknowledged while the writer was down (their spend queued)");
    await assertEveryCompletionBilledOnce(ids, "writer stopped");
  });

  it(`the writer hung (SIGSTOP) for ${HANG_MS / 1000} s under load: every acknowledged completion gets exactly one spend row once it resumes`, async () => {
    let queuedDuringHang = 0;
    const { ids } = await completionsThrough(async () => {
      await new Promise((r) => setTimeout(r, 500));
      freeze(proxy.pair.primary);
      try {
        await new Promise((r) => setTimeout(r, HANG_MS));
        queuedDuringHang = proxy.tandem.spend.length;
      } finally {
        thaw(proxy.pair.primary);
      }
      await new Promise((r) => setTimeout(r, 500));
    });
    assert.ok(queuedDuringHang > 0, "completions were acknowledged while the writer hung (their spend queued)");
    await assertEveryCompletionBilledOnce(ids, "writer hung");
  });
});
