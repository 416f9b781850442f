// One reader address in front of three streaming replicas — a TCP balancer
// taking each new connection to the next replica, as kube-proxy does for a
// Service such as CloudNativePG's `-ro` — and tandem given only that address.
// Every guarantee holds per instance: a lagging or frozen instance is ejected
// on its own, read-your-writes never lands on one that lacks the write, reads
// spread over the instances, and instances added to or removed from the
// balancer are followed without a restart. Where statements ran is counted
// on each server (pg_stat_statements).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { tcpBalancer, type Balancer } from "../test-support/balancer.js";
import { freeze, pauseReplay, resumeReplay, thaw } from "../test-support/faults.js";
import { readersConnected, readLoad, until } from "../test-support/load.js";
import { startProxy, type Proxy } from "../test-support/proxy.js";

const KEY_READ = /^SELECT .*"tandem_verification_token"/s;
const TEAM_READ = /^SELECT .*"tandem_team"/s;
const JOIN_BOUND_MS = 10_000; // the bound for a new instance to serve reads

describe("one reader address over three replicas (a balanced Service)", () => {
  let pair: LocalPair;
  let balancer: Balancer;
  let proxy: Proxy;
  let witness: Witness;
  let reader: string; // a key whose lookups make the read load
  const instanceOf = (index: number) => `127.0.0.1:${pair.replicas[index]!.port}`;
  const member = (index: number) => proxy.tandem.database.reader.members.find((m) => m.name === instanceOf(index));
  const as = (key: string, path: string) => fetch(`${proxy.base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const lookUp = async () => {
    const res = await as(reader, "/key/info");
    if (res.status !== 200) throw new Error(`key lookup answered ${res.status}`);
  };

  before(async () => {
    pair = await startMigratedPair({ replicas: 3 });
    balancer = await tcpBalancer(pair.replicas.map((r) => r.port));
    const balanced = new URL(pair.replica.url);
    balanced.port = String(balancer.port);
    proxy = await startProxy(
      {
        DATABASE_URL_READ_REPLICA: balanced.toString(),
        DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
        DATABASE_READ_REPLICA_MAX_LAG_MS: "2000",
        DATABASE_READ_TIMEOUT_MS: "1000",
        // Every request reads its key: what is counted is where reads run.
        KEY_CACHE_TTL_MS: "0",
      },
      { pair },
    );
    witness = await Witness.open(pair);
    reader = String((await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key);
    await proxy.caughtUp();
  });
  after(async () => {
    for (const replica of pair?.replicas ?? []) {
      thaw(replica);
      await resumeReplay(replica).catch(() => undefined);
    }
    await proxy?.stop();
    await balancer?.close();
    pair?.stop();
  });

  it("finds the three instances behind the one address, each named by its own host:port", async () => {
    await readersConnected(proxy.tandem.database.reader, 3, "three instances found");
    const names = proxy.tandem.database.reader.members.map((m) => m.name).sort();
    assert.deepEqual(names, [0, 1, 2].map(instanceOf).sort());
    const readiness = (await (await fetch(`${proxy.base}/health/readiness`)).json()) as {
      db: { reader: string; readers: Record<string, { state: string; address: string; found_by: string }> };
    };
    assert.equal(readiness.db.reader, "connected");
    for (const name of names) {
      assert.deepEqual(readiness.db.readers[name], {
        ...readiness.db.readers[name],
        address: `127.0.0.1:${balancer.port}`,
        found_by: "address",
      });
    }
    assert.doesNotMatch(JSON.stringify(readiness), new RegExp(pair.appPassword));
  });

  it("reads spread over the three instances, none on the writer", async () => {
    const where = await witness.during(KEY_READ, async () => {
      for (let i = 0; i < 300; i += 6) await Promise.all(Array.from({ length: 6 }, lookUp));
    });
    console.log(`# 300 key lookups through one address: replicas ${where.replicas.join(" / ")}, writer ${where.writer}`);
    assert.equal(where.writer, 0);
    for (const count of where.replicas) assert.ok(count >= 60, `each instance serves ≥ 20 %: ${where.replicas.join(" / ")}`);
  });

  it("replay paused on one instance: no stale read, it serves nothing while beyond the bound, the writer ≤ 10 % of reads", async () => {
    await pauseReplay(pair.replicas[0]!);
    try {
      // Writes the paused instance misses put it beyond the 2 s bound.
      await until(async () => {
        await proxy.admin("/team/new", { body: { team_alias: `lag-${Date.now()}` } });
        return member(0)?.state.status === "lagging";
      }, "the paused instance marked lagging");
      const readiness = (await (await fetch(`${proxy.base}/health/readiness`)).json()) as {
        db: { reader: string; readers: Record<string, { state: string }> };
      };
      assert.equal(readiness.db.readers[instanceOf(0)]?.state, "lagging");
      assert.equal(readiness.db.reader, "connected", "overall: the other instances serve");

      // Created, then read back at once, by the same caller; deleted, then refused at once.
      const stale: string[] = [];
      const createThenRead = async (round: number) => {
        const key = String((await proxy.admin("/key/generate", { body: { key_alias: `ryw-${round}` } })).json.key);
        const info = await proxy.admin(`/key/info?key=${encodeURIComponent(key)}`);
        if (info.status !== 200) stale.push(`key ${round}: ${info.status}`);
        const team = await proxy.admin("/team/new", { body: { team_alias: `ryw-team-${round}` } });
        const teamInfo = await proxy.admin(`/team/info?team_id=${String(team.json.team_id)}`);
        if (teamInfo.status !== 200) stale.push(`team ${round}: ${teamInfo.status}`);
        await proxy.admin("/key/delete", { body: { keys: [key] } });
        const refused = await as(key, "/key/info");
        if (refused.status !== 401) stale.push(`deleted key ${round}: ${refused.status}`);
      };
      const keyReads = await witness.during(KEY_READ, async () => {
        for (let round = 0; round < 40; round++) await createThenRead(round);
      });
      const teamReads = await witness.count(TEAM_READ);
      console.log(
        `# 40 create-then-read rounds: key reads replicas ${keyReads.replicas.join(" / ")} writer ${keyReads.writer}; ` +
          `team reads replicas ${teamReads.replicas.join(" / ")} writer ${teamReads.writer}`,
      );
      assert.deepEqual(stale, [], "every read after a write saw it");
      assert.equal(keyReads.replicas[0], 0, "the paused instance served no key read");
      assert.equal(teamReads.replicas[0], 0, "the paused instance served no team read");

      const load = readLoad(lookUp, 8);
      const plain = await witness.during(KEY_READ, () => until(() => load.latencies.length >= 400, "400 key lookups"));
      const { failures } = await load.stop();
      const share = plain.writer / (plain.writer + plain.reader);
      console.log(`# read loop with one instance paused: replicas ${plain.replicas.join(" / ")}, writer ${plain.writer}`);
      assert.deepEqual(failures, []);
      assert.equal(plain.replicas[0], 0, "the paused instance served no read");
      assert.ok(share <= 0.1, `writer share ${share.toFixed(3)}`);
    } finally {
      await resumeReplay(pair.replicas[0]!);
    }
    await until(() => member(0)?.state.status === "connected", "the paused instance back once replay resumes");
  });

  it("one instance frozen (SIGSTOP) behind the address: no read fails, p99 ≤ 2.5 s, it rejoins on SIGCONT", async () => {
    const load = readLoad(lookUp, 8);
    await until(() => load.latencies.length >= 50, "reads before the hang");
    freeze(pair.replicas[1]!);
    try {
      await until(() => member(1)?.state.status === "degraded", "the frozen instance ejected");
      const reads = load.latencies.length;
      await until(() => load.latencies.length >= reads + 200, "reads served while it hangs");
    } finally {
      thaw(pair.replicas[1]!);
    }
    const { reads, failures, p99 } = await load.stop();
    console.log(`# one of three instances frozen behind one address: ${reads} reads, ${failures.length} failed, p99 ${p99.toFixed(0)} ms`);
    assert.deepEqual(failures, []);
    assert.ok(p99 <= 2500, `p99 ${p99.toFixed(0)} ms`);
    await until(() => member(1)?.state.status === "connected", "the frozen instance back after SIGCONT");
  });

  it("an instance taken out of the balancer fails no read and leaves the set; put back, it serves reads within 10 s", async () => {
    const load = readLoad(lookUp, 4);
    balancer.setBackends([pair.replicas[0]!.port, pair.replicas[1]!.port]);
    await until(() => member(2) === undefined, "the removed instance left the set");
    const { failures } = await load.stop();
    assert.deepEqual(failures, []);
    const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
    assert.match(metrics, new RegExp(`tandem_db_reader_instance_info\\{[^}]*reader="${instanceOf(0)}"`), "a present instance is listed");
    assert.doesNotMatch(metrics, new RegExp(`tandem_db_reader_instance_info\\{[^}]*reader="${instanceOf(2)}"`), "the departed one is not");

    balancer.setBackends(pair.replicas.map((r) => r.port));
    const started = Date.now();
    await witness.reset();
    const serving = readLoad(lookUp, 4);
    try {
      await until(async () => (await witness.count(KEY_READ)).replicas[2]! > 0, "the instance put back serves reads", JOIN_BOUND_MS * 3);
    } finally {
      const result = await serving.stop();
      assert.deepEqual(result.failures, []);
    }
    const took = Date.now() - started;
    console.log(`# an instance put back behind the address served reads after ${took} ms`);
    assert.ok(took <= JOIN_BOUND_MS, `joined after ${took} ms`);
    assert.equal(member(2)?.foundBy, "address");
  });
});
