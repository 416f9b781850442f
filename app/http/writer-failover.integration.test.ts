// A writer failover under load. The writer address is a TCP forwarder the
// test re-points, as DNS moves a cluster endpoint: the primary is stopped, a
// replica promoted and the address moved to it; and, the nasty variant, the
// address left on a read-only standby for 10 s. Writes come back without a
// restart, no request gets a 500, every acknowledged completion is billed
// exactly once and no management write is applied twice.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import OpenAI from "openai";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { startMigratedPair, type LocalPair } from "../test-support/pair.js";
import { tcpHop, type TcpHop } from "../test-support/faults.js";
import { hashKey } from "../services/access/key-hash.js";

const READ_ONLY_MS = 10_000;
// The bound: writes resume within 5 s of the promotion (health interval 200 ms here).
const RESUME_BOUND_MS = 5000;

interface Traffic {
  completions: string[];
  /** key_alias → status of the /key/generate that asked for it. */
  generated: Map<string, number>;
  statuses: number[];
  /** When each successful key/generate answered. */
  writesOkAt: number[];
}

describe("writer failover: the writer address moves to a promoted replica, or lands on a standby", () => {
  let pair: LocalPair;
  let hop: TcpHop;
  let proxy: Proxy;
  let key: string;
  let writerPort: number;
  let aliases = 0;

  before(async () => {
    // replicas[0] is promoted in the first scenario; replicas[1] stays a standby (of the old primary).
    pair = await startMigratedPair({ replicas: 2 });
    hop = await tcpHop(pair.primary.port);
    writerPort = pair.primary.port;
    const viaHop = new URL(pair.primary.url);
    viaHop.port = String(hop.port);
    proxy = await startProxy(
      {
        DATABASE_URL: viaHop.toString(),
        // The replica that will be promoted is also the reader: after the failover it is a valid reader still.
        DATABASE_URL_READ_REPLICA: pair.replicas[0]!.url,
        DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
        SPEND_FLUSH_INTERVAL_MS: "200",
        DATABASE_QUERY_TIMEOUT_MS: "5000",
      },
      { pair },
    );
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    await proxy.caughtUp();
  });
  after(async () => {
    if (process.env.DEBUG_FAILOVER) {
      await proxy?.logs.flush();
      for (const line of proxy?.logs.lines ?? []) if (line.includes("request failed")) console.log(`# ${line.slice(0, 1500)}`);
    }
    await proxy?.stop();
    await hop?.close();
    pair?.stop();
  });

  /** Completions (4 loops) and key generation (1 loop) while `fault` runs. */
  async function trafficThrough(fault: (traffic: Traffic) => Promise<void>): Promise<Traffic> {
    const client = new OpenAI({ apiKey: key, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
    const traffic: Traffic = { completions: [], generated: new Map(), statuses: [], writesOkAt: [] };
    let running = true;
    const completions = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const c = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "bill me" }] });
          traffic.completions.push(c.id);
          traffic.statuses.push(200);
        } catch (error) {
          const status = (error as { status?: number }).status ?? 0;
          if (status !== 503 && process.env.DEBUG_FAILOVER) console.log(`# completion ${status} ${String(error)}`);
          traffic.statuses.push(status);
        }
      }
    });
    const management = (async () => {
      while (running) {
        const alias = `failover-${process.pid}-${aliases++}`;
        const res = await fetch(`${proxy.base}/key/generate`, {
          method: "POST",
          headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ key_alias: alias, models: ["gpt-4o-mini"] }),
        });
        const text = await res.text();
        if (res.status !== 200 && process.env.DEBUG_FAILOVER) console.log(`# ${alias} ${res.status} ${text}`);
        traffic.generated.set(alias, res.status);
        traffic.statuses.push(res.status);
        if (res.status === 200) traffic.writesOkAt.push(Date.now());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 500));
      await fault(traffic);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      running = false;
      await Promise.all([...completions, management]);
    }
    return traffic;
  }

  /** On the current primary: spend rows per acknowledged completion, and keys per alias asked for. */
  async function assertNothingLostOrDoubled(traffic: Traffic, what: string): Promise<void> {
    await eventually(
      async () => proxy.tandem.spend.length,
      (n) => n === 0,
      120_000,
    );
    const primary = new pg.Client({ connectionString: pair.primary.adminUrl.replace(`:${pair.primary.port}/`, `:${writerPort}/`) });
    await primary.connect();
    try {
      const spend = await primary.query<{ request_id: string; n: string }>(
        "SELECT request_id, count(*)::text AS n FROM tandem_spend_rows WHERE api_key = $1 AND request_id = ANY($2) GROUP BY request_id",
        [hashKey(key), traffic.completions],
      );
      const rows = new Map(spend.rows.map((r) => [r.request_id, Number(r.n)]));
      const keys = await primary.query<{ key_alias: string; n: string }>(
        "SELECT key_alias, count(*)::text AS n FROM tandem_verification_token WHERE key_alias = ANY($1) GROUP BY key_alias",
        [[...traffic.generated.keys()]],
      );
      const keyRows = new Map(keys.rows.map((r) => [r.key_alias, Number(r.n)]));
      const statuses = [...new Set(traffic.statuses)].sort();
      const acknowledged = [...traffic.generated].filter(([, status]) => status === 200).map(([alias]) => alias);
      console.log(
        `# ${what}: ${traffic.completions.length} completions, ${rows.size} billed; ${traffic.generated.size} key writes ` +
          `(${acknowledged.length} acknowledged, ${keyRows.size} present); statuses ${statuses.join(",")}`,
      );
      assert.deepEqual(
        traffic.completions.filter((id) => !rows.has(id)),
        [],
        "every acknowledged completion has a spend row",
      );
      assert.deepEqual(
        [...rows].filter(([, n]) => n !== 1),
        [],
        "none is billed twice",
      );
      assert.deepEqual(
        acknowledged.filter((alias) => keyRows.get(alias) !== 1),
        [],
        "every acknowledged key exists once",
      );
      assert.deepEqual(
        [...keyRows].filter(([, n]) => n > 1),
        [],
        "no management write applied twice",
      );
      assert.ok(
        traffic.statuses.every((s) => s === 200 || s === 503),
        `only 200 and 503, never a 500: ${statuses.join(",")}`,
      );
    } finally {
      await primary.end();
    }
  }

  const readiness = async () => ((await (await fetch(`${proxy.base}/health/readiness`)).json()) as { db: { writer: string } }).db.writer;

  it("the primary stopped, a replica promoted and the writer address moved to it: writes resume within 5 s, nothing lost or doubled", async () => {
    let promotedAt = 0;
    const promoted = pair.replicas[0]!;
    const traffic = await trafficThrough(async (running) => {
      pair.primary.stop("fast");
      promoted.promote();
      promotedAt = Date.now();
      hop.retarget(promoted.port);
      writerPort = promoted.port;
      await eventually(
        async () => running.writesOkAt.some((t) => t > promotedAt),
        (resumed) => resumed,
        30_000,
      );
    });
    const resumedAt = traffic.writesOkAt.find((t) => t > promotedAt);
    assert.ok(resumedAt !== undefined, "a key was generated after the promotion");
    console.log(`# writes resumed ${resumedAt - promotedAt} ms after the promotion`);
    assert.ok(resumedAt - promotedAt <= RESUME_BOUND_MS, `writes resumed after ${resumedAt - promotedAt} ms`);
    assert.equal(await readiness(), "connected");
    await assertNothingLostOrDoubled(traffic, "promotion");
  });

  it("the writer address on a read-only standby for 10 s, then on the primary again: writes in between are 503 or queued, the pool recovers without a restart", async () => {
    const standby = pair.replicas[1]!;
    const primaryPort = writerPort;
    const seen = new Set<string>();
    const traffic = await trafficThrough(async () => {
      // The old writer's connections break (a demoted Aurora writer restarts); new ones reach a standby.
      hop.retarget(standby.port, { dropOpen: true });
      const until = Date.now() + READ_ONLY_MS;
      while (Date.now() < until) {
        seen.add(await readiness());
        await new Promise((r) => setTimeout(r, 100));
      }
      hop.retarget(primaryPort);
      await eventually(readiness, (state) => state === "connected", 30_000);
    });
    assert.ok(seen.has("read-only"), `readiness showed the writer read-only: ${[...seen].join(",")}`);
    assert.ok(traffic.statuses.includes(503), "writes in the read-only window answered 503");
    const lastWrite = traffic.writesOkAt.at(-1) ?? 0;
    assert.ok(lastWrite > Date.now() - 5000, "writes succeed again after the address is back on the primary");
    await assertNothingLostOrDoubled(traffic, "read-only standby");
  });
});
