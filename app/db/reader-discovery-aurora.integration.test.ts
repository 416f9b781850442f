// Aurora topology discovery: `aurora_replica_status()` as Aurora's writer
// answers it — here a SQL function the test creates on the primary, over a
// table the test edits — lists the cluster's instances; tandem connects to
// each reader instance at its instance endpoint (the pattern with `?` as the
// instance identifier) and follows the list as instances come and go. Each
// replica sits behind its own loopback address, all on one port.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Database } from "./database.js";
import { openReading, seedTeams, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { replicasOnLoopbackHosts, type ReplicaHosts } from "../test-support/loopback-hosts.js";
import { captureLogs } from "../test-support/logs.js";
import { readersConnected, readLoad, until } from "../test-support/load.js";

const TEAM = /"tandem_team"/;

describe("Aurora topology discovery (DATABASE_READ_REPLICA_DISCOVERY=aurora)", () => {
  let pair: LocalPair;
  let replicas: ReplicaHosts;
  let admin: pg.Client;
  const logs = captureLogs();
  const databases: Database[] = [];
  const instance = (index: number) => `127.0.0.1:${pair.replicas[index]!.port}`;
  // Aurora's view: the writer's row, and a row per reader instance (its identifier; here, its loopback address).
  const setTopology = async (readers: readonly string[]) => {
    await admin.query("BEGIN");
    await admin.query("DELETE FROM aurora_stub_topology");
    await admin.query("INSERT INTO aurora_stub_topology VALUES ('writer-1', 'MASTER_SESSION_ID', now())");
    for (const id of readers) await admin.query("INSERT INTO aurora_stub_topology VALUES ($1, gen_random_uuid()::text, now())", [id]);
    await admin.query("COMMIT");
  };
  const open = async (env: Record<string, string>) => {
    const database = await openReading(pair, replicas.urlAt(replicas.hosts[0]!), logs.logger, env);
    databases.push(database);
    return database;
  };
  const lookUp = (database: Database) => async () => {
    const teams = await database.db.team.findMany({ where: { team_alias: { startsWith: "aur" } } });
    assert.equal(teams.length, 2);
  };
  const spread = async (database: Database) =>
    (await Witness.open(pair)).during(TEAM, async () => {
      for (let i = 0; i < 120; i += 4) await Promise.all(Array.from({ length: 4 }, lookUp(database)));
    });

  before(async () => {
    pair = await startMigratedPair({ replicas: 3 });
    replicas = await replicasOnLoopbackHosts(pair);
    admin = new pg.Client({ connectionString: pair.primary.adminUrl });
    await admin.connect();
    await admin.query("CREATE TABLE aurora_stub_topology (server_id text, session_id text, last_update_timestamp timestamptz)");
    await admin.query(
      `CREATE FUNCTION aurora_replica_status() RETURNS TABLE (server_id text, session_id text, last_update_timestamp timestamptz)
         LANGUAGE sql STABLE AS 'SELECT server_id, session_id, last_update_timestamp FROM aurora_stub_topology'`,
    );
    await admin.query(`GRANT SELECT ON aurora_stub_topology TO ${pair.appUser}`);
    await setTopology(replicas.hosts.slice(0, 2));
    await seedTeams(pair, ["aur1", "aur2"]);
  });
  after(async () => {
    for (const database of databases) await database.close();
    await admin?.end();
    await replicas?.close();
    pair?.stop();
  });

  it("without discovery the reader endpoint is one instance: every read on it", async () => {
    const database = await open({});
    await until(() => database.reader.members.length === 1, "the one instance behind the address");
    const where = await spread(database);
    assert.deepEqual([where.replicas[0], where.replicas[1], where.writer], [120, 0, 0]);
    await database.close();
    databases.splice(databases.indexOf(database), 1);
  });

  it("no instance endpoint pattern, and an address that is no Aurora cluster endpoint to derive one from: a start error naming the variable", async () => {
    await assert.rejects(open({ DATABASE_READ_REPLICA_DISCOVERY: "aurora" }), /DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN must be set/);
  });

  describe("with discovery", () => {
    let database: Database;
    const member = (index: number) => database.reader.members.find((m) => m.name === instance(index));
    before(async () => {
      database = await open({ DATABASE_READ_REPLICA_DISCOVERY: "aurora", DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN: "?" });
    });

    it("every reader instance the topology lists, never the writer's row; reads spread over them", async () => {
      await readersConnected(database.reader, 2, "an instance per reader row");
      assert.deepEqual(
        database.reader.members.map((m) => m.foundBy),
        ["aurora", "aurora"],
      );
      const where = await spread(database);
      console.log(`# 120 reads over two Aurora instances: replicas ${where.replicas.join(" / ")}, writer ${where.writer}`);
      assert.equal(where.writer, 0);
      assert.ok(where.replicas[0]! >= 30 && where.replicas[1]! >= 30, where.replicas.join(" / "));
    });

    it("an instance added (auto scaling) serves reads; one removed leaves; no read fails", async () => {
      const load = readLoad(lookUp(database), 4);
      try {
        await setTopology(replicas.hosts);
        await until(() => member(2)?.state.status === "connected", "the added instance joined", 10_000);
        await setTopology(replicas.hosts.slice(1));
        await until(() => member(0) === undefined, "the removed instance left");
      } finally {
        const { failures } = await load.stop();
        assert.deepEqual(failures, []);
      }
      const where = await spread(database);
      assert.equal(where.replicas[0], 0, "nothing on the instance gone from the topology");
      assert.ok(where.replicas[2]! > 0, "the added instance serves");
    });
  });
});
