// DNS discovery: the reader address is a name with one A record per replica
// (a headless Service, round-robin DNS), served by a DNS server the test
// controls. With DATABASE_READ_REPLICA_DISCOVERY=dns tandem connects to each
// record on its own and follows the records as they change, without a
// restart; without it, the name is not even resolvable by the system and
// every read is the writer's. Each replica sits behind its own loopback
// address (127.0.0.2, .3, .4) on one port, as pods behind a Service do.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Database } from "./database.js";
import { openReading, seedTeams, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { replicasOnLoopbackHosts, type ReplicaHosts } from "../test-support/loopback-hosts.js";
import { startDnsStub, type DnsStub } from "../test-support/dns-stub.js";
import { captureLogs } from "../test-support/logs.js";
import { readersConnected, readLoad, until } from "../test-support/load.js";

const TEAM = /"tandem_team"/;
const NAME = "replicas.tandem.test";
const JOIN_BOUND_MS = 10_000;

describe("DNS discovery (DATABASE_READ_REPLICA_DISCOVERY=dns)", () => {
  let pair: LocalPair;
  let dns: DnsStub;
  let replicas: ReplicaHosts;
  const logs = captureLogs();
  const databases: Database[] = [];
  const open = async (env: Record<string, string>) => {
    const database = await openReading(pair, replicas.urlAt(NAME), logs.logger, env);
    databases.push(database);
    return database;
  };
  const lookUp = (database: Database) => async () => {
    const teams = await database.db.team.findMany({ where: { team_alias: { startsWith: "dns" } } });
    assert.equal(teams.length, 2);
  };
  const instance = (index: number) => `127.0.0.1:${pair.replicas[index]!.port}`;

  before(async () => {
    pair = await startMigratedPair({ replicas: 3 });
    replicas = await replicasOnLoopbackHosts(pair);
    dns = await startDnsStub();
    dns.set(NAME, replicas.hosts.slice(0, 2));
    await seedTeams(pair, ["dns1", "dns2"]);
  });
  after(async () => {
    for (const database of databases) await database.close();
    await replicas?.close();
    await dns?.close();
    pair?.stop();
  });

  it("without discovery the name is nobody's address: every read is the writer's", async () => {
    const database = await open({});
    const witness = await Witness.open(pair);
    const where = await witness.during(TEAM, async () => {
      for (let i = 0; i < 20; i++) await lookUp(database)();
    });
    assert.equal(where.writer, 20);
    assert.equal(where.reader, 0);
    await database.close();
    databases.splice(databases.indexOf(database), 1);
  });

  describe("with discovery", () => {
    let database: Database;
    const witness = () => Witness.open(pair);
    const member = (index: number) => database.reader.members.find((m) => m.name === instance(index));
    before(async () => {
      database = await open({ DATABASE_READ_REPLICA_DISCOVERY: "dns", DATABASE_READ_REPLICA_DNS_SERVERS: dns.server });
    });

    it("an instance per record, each found by dns behind the one address; reads spread over them, none on the writer", async () => {
      await readersConnected(database.reader, 2, "an instance per record");
      assert.deepEqual(
        database.reader.members.map((m) => [m.name, m.address, m.foundBy]).sort(),
        [0, 1].map((i) => [instance(i), `${NAME}:${replicas.port}`, "dns"]).sort(),
      );
      const where = await (
        await witness()
      ).during(TEAM, async () => {
        for (let i = 0; i < 200; i += 4) await Promise.all(Array.from({ length: 4 }, lookUp(database)));
      });
      console.log(`# 200 reads over two records: replicas ${where.replicas.join(" / ")}, writer ${where.writer}`);
      assert.equal(where.writer, 0);
      assert.ok(where.replicas[0]! >= 60 && where.replicas[1]! >= 60, `both serve: ${where.replicas.join(" / ")}`);
    });

    it("a record added: its instance serves reads within 10 s; a record removed: its instance leaves and no read fails", async () => {
      const load = readLoad(lookUp(database), 4);
      try {
        dns.set(NAME, replicas.hosts);
        const started = Date.now();
        const w = await witness();
        await w.reset();
        await until(async () => (await w.count(TEAM)).replicas[2]! > 0, "the added record's instance serves reads", JOIN_BOUND_MS * 3);
        const took = Date.now() - started;
        console.log(`# a record added: its instance served reads after ${took} ms`);
        assert.ok(took <= JOIN_BOUND_MS, `joined after ${took} ms`);
        assert.equal(member(2)?.foundBy, "dns");

        dns.set(NAME, replicas.hosts.slice(1));
        await until(() => member(0) === undefined, "the removed record's instance left");
        await w.reset();
        await new Promise((r) => setTimeout(r, 500));
        assert.equal((await w.count(TEAM)).replicas[0], 0, "no read on the instance whose record is gone");
      } finally {
        const { failures } = await load.stop();
        assert.deepEqual(failures, []);
      }
    });

    it("the DNS server gone: the instances last listed keep serving, and the failure is logged once", async () => {
      const before = logs.lines.length;
      await dns.close();
      const load = readLoad(lookUp(database), 4);
      await new Promise((r) => setTimeout(r, 6000));
      const { failures, reads } = await load.stop();
      assert.deepEqual(failures, []);
      assert.ok(reads > 0);
      assert.deepEqual(database.reader.members.map((m) => m.name).sort(), [1, 2].map(instance).sort());
      const warnings = logs.lines.slice(before).filter((line) => line.includes("dns discovery for reader address"));
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0]!, /keeping the instances it last listed/);
    });
  });
});
