// Locality: two replicas behind one address, one of them 20 ms away each way
// (a delaying TCP balancer standing in for another zone or region). Reads go
// to the near one while it can take them, to the far one while it cannot,
// and none fails on the way. Where reads ran is counted on each server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "./database.js";
import { configFor, seedTeams, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { tcpBalancer, type Balancer } from "../test-support/balancer.js";
import { captureLogs } from "../test-support/logs.js";
import { readLoad, until } from "../test-support/load.js";

const TEAM = /"tandem_team"/;

describe("locality: the near replica first, the far one when the near one cannot serve", () => {
  let pair: LocalPair;
  let balancer: Balancer;
  let database: Database;
  let witness: Witness;
  const logs = captureLogs();
  const [far, near] = [0, 1];
  const member = (index: number) => database.reader.members.find((m) => m.name === `127.0.0.1:${pair.replicas[index]!.port}`);
  const lookUp = async () => {
    const teams = await database.db.team.findMany({ where: { team_alias: { startsWith: "loc" } } });
    assert.equal(teams.length, 2);
  };

  before(async () => {
    pair = await startMigratedPair({ replicas: 2 });
    balancer = await tcpBalancer(pair.replicas.map((r) => r.port));
    balancer.delay(pair.replicas[far]!.port, 20);
    await seedTeams(pair, ["loc1", "loc2"]);
    const balanced = new URL(pair.replica.url);
    balanced.port = String(balancer.port);
    database = await openDatabase(
      configFor(pair, {
        DATABASE_URL_READ_REPLICA: balanced.toString(),
        DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
        DATABASE_READ_TIMEOUT_MS: "1000",
      }),
      logs.logger,
    );
    witness = await Witness.open(pair);
  });
  after(async () => {
    for (const replica of pair?.replicas ?? []) if (!replica.running()) replica.start();
    await database?.close();
    await balancer?.close();
    pair?.stop();
  });

  it("each instance's round trip is measured; the far one is not local", async () => {
    await until(() => member(far)?.roundTripMs !== undefined && member(near)?.roundTripMs !== undefined, "both instances measured");
    assert.equal(database.reader.view(member(near)!).local, true);
    assert.equal(database.reader.view(member(far)!).local, false);
    assert.ok(member(far)!.roundTripMs! >= 40, `far round trip ${member(far)!.roundTripMs} ms`);
  });

  it("≥ 90 % of reads go to the near instance while it is healthy", async () => {
    const where = await witness.during(TEAM, async () => {
      for (let i = 0; i < 200; i += 4) await Promise.all(Array.from({ length: 4 }, lookUp));
    });
    console.log(
      `# 200 reads, one replica 20 ms away each way: near ${where.replicas[near]}, far ${where.replicas[far]}, writer ${where.writer}`,
    );
    assert.ok(where.replicas[near]! >= 180, `near ${where.replicas[near]} of 200`);
  });

  it("the near instance stopped: no read fails, and the far one serves them all; back, the near one serves again", async () => {
    const load = readLoad(lookUp, 4);
    pair.replicas[near]!.stop("immediate");
    try {
      await until(() => member(near)?.state.status === "degraded", "the stopped near instance ejected");
    } finally {
      const { failures } = await load.stop();
      assert.deepEqual(failures, []);
    }
    try {
      const where = await witness.during(TEAM, async () => {
        for (let i = 0; i < 50; i++) await lookUp();
      });
      console.log(`# near stopped: far ${where.replicas[far]}, writer ${where.writer}`);
      assert.equal(where.replicas[far], 50, "all to the far one");
      assert.equal(where.writer, 0);
    } finally {
      pair.replicas[near]!.start();
    }
    await until(() => member(near)?.state.status === "connected", "the near instance back");
    const where = await witness.during(TEAM, async () => {
      for (let i = 0; i < 50; i++) await lookUp();
    });
    assert.ok(where.replicas[near]! >= 45, `near again: ${where.replicas.join(" / ")}`);
  });
});
