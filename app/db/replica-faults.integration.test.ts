// The reader fails the way real readers do — hung (SIGSTOP), blackholed (a
// silent TCP peer), lagging (replay paused) — and no read fails, none waits
// without bound, none is served from a reader further behind than the bound,
// and reads come back to the reader once it recovers. Proven database-side.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { openDatabase, type Database } from "./database.js";
import type { FallbackReason } from "./read-router.js";
import { configFor, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { captureLogs } from "../test-support/logs.js";
import { freeze, pauseReplay, resumeReplay, tcpHop, thaw } from "../test-support/faults.js";
import { readLoad, until } from "../test-support/load.js";

const TEAM = /"tandem_team"/;
const READ_BOUND_MS = 15_000;

/** A team lookup the fault tests run in loops. */
const lookUp = async (database: Database) =>
  assert.equal((await database.db.team.findMany({ where: { team_alias: { startsWith: "f" } } })).length, 2);

describe("a reader that hangs, goes silent or falls behind", () => {
  let pair: LocalPair;
  let witness: Witness;
  const logs = captureLogs();

  before(async () => {
    pair = await startMigratedPair();
    witness = await Witness.open(pair);
    const seed = await openDatabase(configFor(pair, { DATABASE_URL_READ_REPLICA: "" }), logs.logger);
    await seed.db.team.createMany({
      data: [
        { team_id: "f1", team_alias: "f1" },
        { team_id: "f2", team_alias: "f2" },
      ],
    });
    await seed.close();
    await pair.waitForReplay();
  });
  after(async () => {
    if (pair?.replica.running()) {
      thaw(pair.replica);
      await resumeReplay(pair.replica).catch(() => undefined);
    }
    pair?.stop();
  });

  it("every replica process stopped (SIGSTOP) under 8 concurrent reads: none fails, none waits without bound, the reader is marked degraded, reads return when it resumes", async () => {
    const fallbacks: FallbackReason[] = [];
    const database = await openDatabase(
      configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: "500", DATABASE_READ_TIMEOUT_MS: "1000" }),
      logs.logger,
      { onFallback: (r) => fallbacks.push(r) },
    );
    try {
      const load = readLoad(() => lookUp(database));
      await until(() => load.latencies.length >= 50, "reads before the hang");
      freeze(pair.replica);
      try {
        await until(() => database.reader.status === "degraded", "reader marked degraded");
        const before = load.latencies.length;
        await until(() => load.latencies.length >= before + 100, "reads served while the reader hangs");
      } finally {
        thaw(pair.replica);
      }
      const { reads, failures, max } = await load.stop();
      console.log(
        `# reader frozen: ${reads} reads, ${failures.length} failed, slowest ${max.toFixed(0)} ms, fallbacks: ${new Set(fallbacks).size} reasons`,
      );
      assert.deepEqual(failures, []);
      assert.ok(max < READ_BOUND_MS, `slowest read took ${max.toFixed(0)} ms`);
      assert.ok(fallbacks.includes("reader-timeout") || fallbacks.includes("reader-degraded"));

      await until(() => database.reader.status === "connected", "reader connected again");
      const back = await witness.during(TEAM, () => database.db.team.findMany());
      assert.ok(back.reader >= 1 && back.writer === 0, `reads back on the reader: ${JSON.stringify(back)}`);
    } finally {
      await database.close(2000);
    }
  });

  it("a read in flight when the reader's network goes silent (blackhole) is answered by the writer; new reads never wait on the silent reader", async () => {
    const hop = await tcpHop(pair.replica.port);
    const readerUrl = new URL(pair.replica.url);
    readerUrl.port = String(hop.port);
    const database = await openDatabase(
      configFor(pair, {
        DATABASE_URL_READ_REPLICA: readerUrl.toString(),
        DATABASE_HEALTH_CHECK_INTERVAL_MS: "500",
        DATABASE_READ_TIMEOUT_MS: "1000",
      }),
      logs.logger,
    );
    try {
      assert.equal(database.reader.status, "connected");
      const load = readLoad(() => lookUp(database), 4);
      await until(() => load.latencies.length >= 20, "reads before the blackhole");
      hop.blackhole();
      await until(() => database.reader.status === "degraded", "reader marked degraded");
      const before = load.latencies.length;
      await until(() => load.latencies.length >= before + 50, "reads served during the blackhole");
      const { failures, max } = await load.stop();
      assert.deepEqual(failures, []);
      assert.ok(max < READ_BOUND_MS, `slowest read took ${max.toFixed(0)} ms`);

      hop.heal();
      await until(() => database.reader.status === "connected", "reader connected again after the partition heals");
      const back = await witness.during(TEAM, () => database.db.team.findMany());
      assert.ok(back.reader >= 1 && back.writer === 0, `reads back on the reader, on fresh connections: ${JSON.stringify(back)}`);
    } finally {
      await database.close(2000);
      await hop.close();
    }
  });

  it("shutdown finishes within its timeout while the reader hangs with a read in flight", async () => {
    const database = await openDatabase(configFor(pair, { DATABASE_READ_TIMEOUT_MS: "60000" }), logs.logger);
    freeze(pair.replica);
    try {
      const inFlight = database.db.team.findMany().then(
        () => "answered",
        () => "failed",
      );
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      await database.close(1000);
      const took = performance.now() - t0;
      assert.ok(took < READ_BOUND_MS, `close took ${took.toFixed(0)} ms`);
      assert.equal(await inFlight, "failed", "the hung read was ended, not left pending");
    } finally {
      thaw(pair.replica);
    }
  });

  it("replay paused: past DATABASE_READ_REPLICA_MAX_LAG_MS the reader is 'lagging' and serves no reads; it serves them again once it catches up", async () => {
    const fallbacks: FallbackReason[] = [];
    const database = await openDatabase(
      configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: "200", DATABASE_READ_REPLICA_MAX_LAG_MS: "1000" }),
      logs.logger,
      { onFallback: (r) => fallbacks.push(r) },
    );
    try {
      await until(() => database.reader.status === "connected", "reader connected");
      await pauseReplay(pair.replica);
      try {
        // The writer moves on: the reader falls behind from the first write it misses.
        const writes = setInterval(
          () => void database.db.team.update({ where: { team_id: "f1" }, data: { spend: { increment: 1 } } }),
          100,
        );
        try {
          await until(() => database.reader.status === "lagging", "reader marked lagging");
        } finally {
          clearInterval(writes);
        }
        assert.ok((database.health.readerLagMs ?? 0) > 1000, `measured lag ${database.health.readerLagMs} ms`);
        const ran = await witness.during(TEAM, () => database.db.team.findMany());
        assert.deepEqual([ran.writer, ran.reader], [1, 0], "a lagging reader serves no reads");
        assert.ok(fallbacks.includes("reader-lagging"));
      } finally {
        await resumeReplay(pair.replica);
      }
      await until(() => database.reader.status === "connected", "reader caught up");
      assert.ok((database.health.readerLagMs ?? Infinity) <= 1000);
      const back = await witness.during(TEAM, () => database.db.team.findMany());
      assert.deepEqual([back.writer, back.reader], [0, 1]);
    } finally {
      await database.close(2000);
    }
  });

  it("an idle writer is not lag: with no writes, a reader whose replay is paused stays 'connected'", async () => {
    const database = await openDatabase(
      configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: "200", DATABASE_READ_REPLICA_MAX_LAG_MS: "500" }),
      logs.logger,
    );
    try {
      await pair.waitForReplay();
      await until(() => database.reader.status === "connected", "reader connected");
      await pauseReplay(pair.replica);
      try {
        // Several health cycles, well past the bound, with nothing written.
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal(database.reader.status, "connected");
        assert.equal(database.health.readerLagMs, 0);
      } finally {
        await resumeReplay(pair.replica);
      }
    } finally {
      await database.close(2000);
    }
  });

  it("raw SQL the replica refuses as a write (25006) is retried on the writer and succeeds", async () => {
    const fallbacks: FallbackReason[] = [];
    const database = await openDatabase(configFor(pair), logs.logger, { onFallback: (r) => fallbacks.push(r) });
    try {
      const rows = await database.db.$queryRaw<Array<{ team_alias: string }>>`
        INSERT INTO tandem_team (team_id, team_alias, updated_at) VALUES (gen_random_uuid()::text, 'raw-write', now()) RETURNING team_alias`;
      assert.deepEqual(rows, [{ team_alias: "raw-write" }]);
      assert.deepEqual(fallbacks, ["reader-refused-write"]);
      assert.equal(database.reader.status, "connected", "a refused write says nothing about the reader's health");
    } finally {
      await database.close(2000);
    }
  });
});
