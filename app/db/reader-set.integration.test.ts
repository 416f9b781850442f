// Several readers: a primary with two real streaming replicas. Reads spread
// over both; a reader that lags, hangs or dies is ejected without failing a
// read while the other serves; both gone, the writer serves; each rejoins by
// itself. Where reads ran is counted on each server (pg_stat_statements).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "./database.js";
import { configFor, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { captureLogs } from "../test-support/logs.js";
import { freeze, pauseReplay, resumeReplay, thaw } from "../test-support/faults.js";
import { readLoad, until } from "../test-support/load.js";

const TEAM = /"tandem_team"/;
// The bound for a reader's return: with a 200 ms health interval this is 25 cycles.
const REJOIN_BOUND_MS = 5000;

const lookUp = async (database: Database) => {
  const teams = await database.db.team.findMany({ where: { team_alias: { startsWith: "s" } } });
  assert.equal(teams.length, 2);
  return teams;
};

describe("several readers (DATABASE_URL_READ_REPLICA with two URLs)", () => {
  let pair: LocalPair;
  let witness: Witness;
  let database: Database;
  const logs = captureLogs();
  const [first, second] = [0, 1];

  before(async () => {
    pair = await startMigratedPair({ replicas: 2 });
    witness = await Witness.open(pair);
    const seed = await openDatabase(configFor(pair, { DATABASE_URL_READ_REPLICA: "" }), logs.logger);
    await seed.db.team.createMany({ data: [{ team_alias: "s1" }, { team_alias: "s2" }] });
    await seed.close();
    await pair.waitForReplay();
    database = await openDatabase(
      configFor(pair, {
        DATABASE_URL_READ_REPLICA: pair.replicas.map((r) => r.url).join(","),
        DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
        DATABASE_READ_REPLICA_MAX_LAG_MS: "1000",
        DATABASE_READ_TIMEOUT_MS: "1000",
      }),
      logs.logger,
    );
  });
  after(async () => {
    for (const replica of pair?.replicas ?? []) {
      if (!replica.running()) continue;
      thaw(replica);
      await resumeReplay(replica).catch(() => undefined);
    }
    await database?.close();
    pair?.stop();
  });

  const rejoin = async (index: number, what: string) => {
    const took = await until(() => database.reader.members[index]!.state.status === "connected", what);
    assert.ok(took <= REJOIN_BOUND_MS, `${what} took ${took} ms`);
  };

  it("each reader is named by host:port, never by its URL", () => {
    assert.deepEqual(
      database.reader.members.map((m) => m.name),
      pair.replicas.map((r) => `127.0.0.1:${r.port}`),
    );
    assert.equal(database.reader.status, "connected");
  });

  it("1,000 reads spread over both readers (each ≥ 30 %), none on the writer", async () => {
    const where = await witness.during(TEAM, async () => {
      for (let i = 0; i < 1000; i += 8) await Promise.all(Array.from({ length: 8 }, () => lookUp(database)));
    });
    console.log(`# 1,000 reads: replicas ${where.replicas.join(" / ")}, writer ${where.writer}`);
    assert.equal(where.writer, 0);
    for (const count of where.replicas) assert.ok(count >= 300, `each reader serves ≥ 30 %: ${where.replicas.join(" / ")}`);
  });

  it("replay paused on one: it is ejected as lagging and the other serves every read; it rejoins once replay resumes", async () => {
    await pauseReplay(pair.replicas[first]!);
    try {
      // Writes the paused replica misses make it fall behind the 1 s bound.
      await until(async () => {
        await database.db.team.create({ data: { team_alias: `lag-${Date.now()}` } });
        return database.reader.members[first]!.state.status === "lagging";
      }, "the paused reader marked lagging");
      assert.equal(database.reader.members[second]!.state.status, "connected");
      assert.equal(database.reader.status, "connected", "overall: reads still have a reader");
      await until(() => database.reader.members[second]!.lagMs === 0, "the other reader caught up");
      const where = await witness.during(TEAM, async () => {
        for (let i = 0; i < 200; i++) await lookUp(database);
      });
      assert.equal(where.replicas[first], 0, "the lagging reader serves nothing");
      assert.ok(where.writer <= 2, `writer selects ≤ 1 %: ${where.writer}`);
      assert.ok(where.replicas[second]! >= 198, `the caught-up reader serves them: ${where.replicas.join(" / ")}`);
    } finally {
      await resumeReplay(pair.replicas[first]!);
    }
    await rejoin(first, "the lagging reader back once replay resumes");
  });

  it("one reader stopped (SIGSTOP) under 8 concurrent reads: none fails, p99 ≤ 2.5 s, the other serves; it rejoins on SIGCONT", async () => {
    const load = readLoad(() => lookUp(database), 8);
    await until(() => load.latencies.length >= 50, "reads before the hang");
    freeze(pair.replicas[first]!);
    try {
      await until(() => database.reader.members[first]!.state.status === "degraded", "the frozen reader ejected");
      const reads = load.latencies.length;
      await until(() => load.latencies.length >= reads + 200, "reads served while it hangs");
      assert.equal(database.reader.members[second]!.state.status, "connected");
      const where = await witness.during(TEAM, async () => {
        for (let i = 0; i < 100; i++) await lookUp(database);
      });
      assert.ok(where.replicas[second]! >= 95, `the other reader serves: ${where.replicas.join(" / ")} writer ${where.writer}`);
    } finally {
      thaw(pair.replicas[first]!);
    }
    const { reads, failures, p99 } = await load.stop();
    console.log(`# one of two readers frozen: ${reads} reads, ${failures.length} failed, p99 ${p99.toFixed(0)} ms`);
    assert.deepEqual(failures, []);
    assert.ok(p99 <= 2500, `p99 ${p99.toFixed(0)} ms`);
    await rejoin(first, "the frozen reader back after SIGCONT");
  });

  it("both readers down: the writer serves every read, none fails; each rejoins when it returns", async () => {
    for (const replica of pair.replicas) replica.stop("immediate");
    try {
      const failures: unknown[] = [];
      for (let i = 0; i < 50; i++) await lookUp(database).catch((error: unknown) => failures.push(error));
      assert.deepEqual(failures, []);
      await until(() => database.reader.status === "degraded", "both readers degraded");
      const where = await witness.during(TEAM, async () => {
        for (let i = 0; i < 20; i++) await lookUp(database);
      });
      assert.equal(where.writer, 20);
    } finally {
      for (const replica of pair.replicas) replica.start();
    }
    await rejoin(first, "the first reader back after restart");
    await rejoin(second, "the second reader back after restart");
    await pair.waitForReplay();
    const where = await witness.during(TEAM, async () => {
      for (let i = 0; i < 100; i += 4) await Promise.all(Array.from({ length: 4 }, () => lookUp(database)));
    });
    assert.equal(where.writer, 0);
    assert.ok(
      where.replicas.every((count) => count > 0),
      `both serve again: ${where.replicas.join(" / ")}`,
    );
  });
});
