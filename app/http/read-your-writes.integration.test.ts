// A read that depends on a write made through tandem sees that write — with
// the replica's replay paused, so the replica really does not have it — while
// every other read stays on the replica. Proven with pg_stat_statements.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { configFor, Witness } from "../test-support/pair.js";
import { parseProxyConfig } from "../config/model-config.js";
import { startServer, type RunningServer } from "../server.js";
import { pauseReplay, resumeReplay } from "../test-support/faults.js";

const KEY_READ = /^SELECT .*"tandem_verification_token"/s;

describe("read-your-writes by WAL position", () => {
  let proxy: Proxy;
  let witness: Witness;
  let settled: string; // a key the replica has had for a long time

  const as = (key: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${proxy.base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
  const generate = async () => {
    const res = await fetch(`${proxy.base}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ models: ["gpt-4o-mini"] }),
    });
    assert.equal(res.status, 200);
    return { key: ((await res.json()) as { key: string }).key, lsn: res.headers.get("x-tandem-lsn") };
  };

  const caughtUp = () => proxy.caughtUp();

  before(async () => {
    // A generous staleness bound keeps the paused replica "connected": what is
    // tested here is read-your-writes, not the lag bound.
    proxy = await startProxy({ DATABASE_HEALTH_CHECK_INTERVAL_MS: "200", DATABASE_READ_REPLICA_MAX_LAG_MS: "600000" });
    witness = await Witness.open(proxy.pair);
    settled = (await generate()).key;
    await caughtUp();
  });
  after(async () => {
    await resumeReplay(proxy.pair.replica).catch(() => undefined);
    await proxy?.stop();
  });

  describe("with the replica's replay paused", () => {
    before(() => pauseReplay(proxy.pair.replica));
    after(() => resumeReplay(proxy.pair.replica));

    it("a key just generated works at once: its lookup runs on the writer; an older key's still runs on the replica", async () => {
      const { key, lsn } = await generate();
      assert.match(lsn ?? "", /^[0-9A-F]+\/[0-9A-F]+$/, "the write's response carries x-tandem-lsn");
      const fresh = await witness.during(KEY_READ, async () => assert.equal((await as(key, "/key/info")).status, 200));
      assert.ok(fresh.writer >= 1, JSON.stringify(fresh));
      const old = await witness.during(KEY_READ, async () => assert.equal((await as(settled, "/key/info")).status, 200));
      assert.ok(old.writer === 0 && old.reader >= 1, JSON.stringify(old));
    });

    it("a key just deleted is refused at once (401), though the replica still has it", async () => {
      const doomed = settled;
      const del = await proxy.admin("/key/delete", { body: { keys: [doomed] } });
      assert.equal(del.status, 200);
      const res = await as(doomed, "/key/info");
      assert.equal(res.status, 401);
      settled = (await generate()).key;
    });

    it("a team just created is found at once", async () => {
      const created = await proxy.admin("/team/new", { body: { team_alias: `ryw-${Date.now()}` } });
      assert.equal(created.status, 200);
      const info = await proxy.admin(`/team/info?team_id=${String(created.json.team_id)}`);
      assert.equal(info.status, 200, JSON.stringify(info.json));
    });

    it("another pod: x-tandem-min-lsn from the write's response makes it answer from the writer; a malformed one is a 400 naming the header", async () => {
      const other: RunningServer = await startServer(
        configFor(proxy.pair, { PORT: "0", DATABASE_READ_REPLICA_MAX_LAG_MS: "600000" }),
        parseProxyConfig("model_list: []", "test", {}),
        proxy.logs.logger,
      );
      try {
        const base = `http://127.0.0.1:${other.port}`;
        const { key, lsn } = await generate(); // written through the first pod
        const ran = await witness.during(KEY_READ, async () => {
          const res = await fetch(`${base}/key/info`, { headers: { authorization: `Bearer ${key}`, "x-tandem-min-lsn": lsn ?? "" } });
          assert.equal(res.status, 200);
        });
        assert.deepEqual(ran.reader, 0, "the replica, behind the token, was not asked");
        const bad = await fetch(`${base}/key/info`, { headers: { authorization: `Bearer ${key}`, "x-tandem-min-lsn": "yesterday" } });
        assert.equal(bad.status, 400);
        assert.match(await bad.text(), /x-tandem-min-lsn/);
      } finally {
        await other.shutdown(2000);
      }
    });
  });

  it("an invalid-key flood on a caught-up replica never reaches the writer (≤ 5 writer statements for 100 requests)", async () => {
    // Once a health cycle has seen the replica caught up, this pod's own writes no longer need the writer.
    await caughtUp();
    const ran = await witness.during(KEY_READ, async () => {
      for (let i = 0; i < 100; i++) assert.equal((await as(`sk-invalid-${i}`, "/key/info")).status, 401);
    });
    assert.ok(ran.writer <= 5, `writer statements: ${ran.writer}`);
    assert.ok(ran.reader >= 95, `reader statements: ${ran.reader}`);
  });

  it("steady state under mixed reads and writes: ≥ 99% of key lookups on the replica", async () => {
    const keys = await Promise.all(Array.from({ length: 4 }, () => generate().then((g) => g.key)));
    await caughtUp();
    let lookups = 0;
    const ran = await witness.during(KEY_READ, async () => {
      for (let round = 0; round < 4; round++) {
        await generate(); // a write in between: only its own key's reads depend on it
        for (let i = 0; i < 100; i++) {
          assert.equal((await as(keys[i % keys.length]!, "/key/info")).status, 200);
          lookups++;
        }
      }
    });
    const onReader = ran.reader / (ran.reader + ran.writer);
    console.log(
      `# ${lookups} requests (2 key reads each) with 4 writes between: ${ran.reader} on the replica, ${ran.writer} on the writer`,
    );
    assert.ok(onReader >= 0.99, `share on the replica: ${onReader}`);
  });
});
