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
  let teamId: string; // a team, and a key in it, the replica has had for a long time
  let teamKey: string;

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
    teamId = String((await proxy.admin("/team/new", { body: { models: ["gpt-4o-mini"] } })).json.team_id);
    teamKey = String((await proxy.admin("/key/generate", { body: { team_id: teamId } })).json.key);
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

    const chat = (key: string) =>
      fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      }).then((r) => r.status);

    it("a key just updated is enforced on its next request, though it was cached and the replica has the old row", async () => {
      assert.equal(await chat(settled), 200, "used (and cached) with its old models");
      const updated = await proxy.admin("/key/update", { body: { key: settled, models: ["slow-model"] } });
      assert.equal(updated.status, 200);
      assert.equal(await chat(settled), 401, "gpt-4o-mini no longer allowed");
      await proxy.admin("/key/update", { body: { key: settled, models: ["gpt-4o-mini"] } });
      assert.equal(await chat(settled), 200);
    });

    it("a team just changed applies to its keys at once: the key is read again with the team as it is now", async () => {
      assert.equal(await chat(teamKey), 200, "read from the replica, and cached");
      assert.equal((await proxy.admin("/team/update", { body: { team_id: teamId, models: ["slow-model"] } })).status, 200);
      const again = await witness.during(KEY_READ, async () => assert.equal(await chat(teamKey), 401, "the team's new model list"));
      assert.deepEqual([again.reader, again.writer], [1, 1], "read on the replica (old team), then again on the writer");
    });

    it("a team just created is found at once", async () => {
      const created = await proxy.admin("/team/new", { body: { team_alias: `ryw-${Date.now()}` } });
      assert.equal(created.status, 200);
      const info = await proxy.admin(`/team/info?team_id=${String(created.json.team_id)}`);
      assert.equal(info.status, 200, JSON.stringify(info.json));
    });

    it("what the admin just made is in its lists at once: budgets, end users, organizations", async () => {
      const id = `ryw-${Date.now()}`;
      assert.equal((await proxy.admin("/budget/new", { body: { budget_id: id, max_budget: 1 } })).status, 200);
      assert.equal((await proxy.admin("/end_user/new", { body: { user_id: id } })).status, 200);
      assert.equal((await proxy.admin("/organization/new", { body: { organization_alias: id } })).status, 200);
      const listed = async (path: string, field: string) =>
        ((await proxy.admin(path)).json as unknown as Array<Record<string, unknown>>).some((row) => row[field] === id);
      assert.ok(await listed("/budget/list", "budget_id"), "the new budget is listed");
      assert.ok(await listed("/end_user/list", "user_id"), "the new end user is listed");
      assert.ok(await listed("/organization/list", "organization_alias"), "the new organization is listed");
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
        // The same on the lean path (a plain JSON completion skips Express).
        const badChat = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-tandem-min-lsn": "yesterday" },
          body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
        });
        assert.equal(badChat.status, 400);
        assert.match(await badChat.text(), /x-tandem-min-lsn/);
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
