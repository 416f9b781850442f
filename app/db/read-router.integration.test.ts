// A dead or missing reader never reduces availability: at start, in the
// reconnect cycle, and per query. Real replica, really stopped.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "./database.js";
import type { FallbackReason } from "./read-router.js";
import { assertNoSecrets, configFor, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { captureLogs } from "../test-support/logs.js";

const KEYS = /"tandem_team"/;
const INTERVAL_MS = 500;
// Bounds for events, not speed: generous enough for a busy 2-core machine,
// and still failing when the behaviour is absent. How fast recovery really is
// is measured by `npm run bench` (reader recovery figures).
const EVENT_BOUND_MS = 30_000;

const STARTUP_WARNING =
  /^Failed to connect to read replica DB: .*ECONNREFUSED.*\. Falling back to the writer for reads until the reader is reachable\.$/;

/** Reads with `workers` concurrent loops until `stop` resolves; every failure is kept. */
async function readLoop(database: Database, workers: number, stop: Promise<unknown>) {
  let done = false;
  void stop.finally(() => (done = true));
  let ok = 0;
  const failures: unknown[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!done) {
        try {
          const teams = await database.db.team.findMany({ where: { team_alias: { startsWith: "t" } } });
          assert.equal(teams.length, 3);
          ok++;
        } catch (error) {
          failures.push(error);
        }
      }
    }),
  );
  return { ok, failures };
}

async function waitUntil(predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await predicate()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe("reader degradation and recovery", () => {
  let pair: LocalPair;
  let witness: Witness;
  const logs = captureLogs();
  const fallbacks: FallbackReason[] = [];

  before(async () => {
    pair = await startMigratedPair();
    witness = await Witness.open(pair);
    const seed = await openDatabase(configFor(pair, { DATABASE_URL_READ_REPLICA: "" }), logs.logger);
    await seed.db.team.createMany({ data: [{ team_alias: "t1" }, { team_alias: "t2" }, { team_alias: "t3" }] });
    await seed.close();
    await pair.waitForReplay();
  });
  after(async () => {
    await logs.flush();
    assertNoSecrets(logs.lines, [pair?.appPassword]);
    await witness?.close();
    pair?.stop();
  });

  it("starts with the reader down: warns with the contract's message, serves reads from the writer, returns to the reader once it is back", async () => {
    pair.replica.stop("fast");
    const database = await openDatabase(configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS) }), logs.logger, {
      onFallback: (r) => fallbacks.push(r),
    });
    try {
      await logs.flush();
      assert.equal(logs.messages().filter((m) => STARTUP_WARNING.test(m)).length, 1, logs.messages().join("\n"));
      assert.equal(database.reader.status, "degraded");

      const ran = await witness.during(KEYS, async () => assert.equal((await database.db.team.findMany()).length, 3));
      assert.ok(ran.writer >= 1, "the read was served by the writer");
      assert.ok(fallbacks.includes("reader-degraded"));

      pair.replica.start();
      const backAfterMs = await waitUntil(() => database.reader.status === "connected", EVENT_BOUND_MS);
      const back = await witness.during(KEYS, () => database.db.team.findMany());
      assert.ok(back.reader >= 1, `reads back on the reader after ${backAfterMs} ms: ${JSON.stringify(back)}`);
      assert.equal(back.writer, 0);
    } finally {
      await database.close();
    }
  });

  for (const mode of ["immediate", "fast"] as const) {
    it(`the reader stopped (${mode}) under concurrent reads: zero failed reads, reader marked degraded, reads back on it once it returns`, async () => {
      if (!pair.replica.running()) pair.replica.start();
      fallbacks.length = 0;
      const database = await openDatabase(configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS) }), logs.logger, {
        onFallback: (r) => fallbacks.push(r),
      });
      try {
        assert.equal(database.reader.status, "connected");
        let stopLoad!: () => void;
        const load = readLoop(database, 8, new Promise<void>((resolve) => (stopLoad = resolve)));
        await new Promise((r) => setTimeout(r, 300)); // some reads on the live reader first
        pair.replica.stop(mode);
        // Keep reading until a good number of reads have gone through the fallback path.
        await waitUntil(() => fallbacks.length >= 20, EVENT_BOUND_MS).finally(stopLoad);
        const { ok, failures } = await load;
        assert.deepEqual(failures, [], `${failures.length} reads failed`);
        assert.ok(ok >= 20, `the loop made progress (${ok} reads)`);
        assert.equal(database.reader.status, "degraded");
        assert.ok(fallbacks.length > 0);
        console.log(`# reader stopped (${mode}) under load: ${ok} reads, 0 failed, ${fallbacks.length} served by the writer`);

        pair.replica.start();
        const elapsed = await waitUntil(
          async () => (await witness.during(KEYS, () => database.db.team.findMany())).reader > 0,
          EVENT_BOUND_MS,
        );
        console.log(`# reads back on the reader ${elapsed} ms after it was started (${INTERVAL_MS} ms health interval)`);
        assert.equal(database.reader.status, "connected");
      } finally {
        await database.close();
      }
    });
  }

  it("per query: with no health check due, a read that hits the dead reader is retried once on the writer and succeeds", async () => {
    if (!pair.replica.running()) pair.replica.start();
    fallbacks.length = 0;
    const database = await openDatabase(configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: "60000" }), logs.logger, {
      onFallback: (r) => fallbacks.push(r),
    });
    try {
      await database.db.team.count(); // a pooled reader connection now exists
      pair.replica.stop("immediate");
      const ran = await witness.during(KEYS, async () => assert.equal(await database.db.team.count(), 3));
      assert.deepEqual(fallbacks, ["reader-connection-error"]);
      assert.equal(ran.writer, 1);
      assert.equal(database.reader.status, "degraded");
    } finally {
      await database.close();
    }
  });

  it("a reader that dies between health checks is detected by the next cycle too", async () => {
    if (!pair.replica.running()) pair.replica.start();
    const database = await openDatabase(configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: "60000" }), logs.logger);
    try {
      assert.equal(database.reader.status, "connected");
      pair.replica.stop("fast");
      await database.runHealthCycle();
      assert.equal(database.reader.status, "degraded");
      pair.replica.start();
      await database.runHealthCycle();
      assert.equal(database.reader.status, "connected");
    } finally {
      await database.close();
    }
  });
});
