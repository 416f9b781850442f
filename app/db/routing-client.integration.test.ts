// The routing table of the contract, row by row, against a real primary and
// streaming replica. The witness is pg_stat_statements on each server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Prisma } from "../generated/prisma/client.js";
import { openDatabase, type Database } from "./database.js";
import { assertNoSecrets, configFor, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { captureLogs } from "../test-support/logs.js";

const TEAM = /"tandem_team"/;

describe("routing client: reads on the reader, everything else on the writer", () => {
  let pair: LocalPair;
  let database: Database;
  let witness: Witness;
  const logs = captureLogs();

  before(async () => {
    pair = await startMigratedPair();
    database = await openDatabase(configFor(pair), logs.logger);
    witness = await Witness.open(pair);
    await database.db.team.createMany({
      data: [
        { team_id: "alpha", team_alias: "alpha" },
        { team_id: "beta", team_alias: "beta", max_budget: 10 },
      ],
    });
    await pair.waitForReplay();
  });
  after(async () => {
    await witness?.close();
    await database?.close();
    await logs.flush();
    assertNoSecrets(logs.lines, [pair?.appPassword]);
    pair?.stop();
  });

  const reads: Array<[string, (db: Database["db"]) => Promise<unknown>]> = [
    ["findFirst", (db) => db.team.findFirst({ where: { team_alias: "alpha" } })],
    ["findFirstOrThrow", (db) => db.team.findFirstOrThrow({ where: { team_alias: "alpha" } })],
    ["findMany", (db) => db.team.findMany()],
    ["findUnique", (db) => db.team.findUnique({ where: { team_id: "alpha" } })],
    ["findUniqueOrThrow", (db) => db.team.findUniqueOrThrow({ where: { team_id: "alpha" } })],
    ["count", (db) => db.team.count()],
    ["aggregate", (db) => db.team.aggregate({ _sum: { max_budget: true } })],
    ["groupBy", (db) => db.team.groupBy({ by: ["team_alias"], _count: true })],
    ["$queryRaw", (db) => db.$queryRaw`SELECT count(*) FROM "tandem_team"`],
    ["$queryRawUnsafe", (db) => db.$queryRawUnsafe(`SELECT team_alias FROM "tandem_team" WHERE team_alias = $1`, "alpha")],
  ];
  for (const [method, read] of reads) {
    it(`${method} runs on the reader only`, async () => {
      const ran = await witness.during(TEAM, () => read(database.db));
      assert.ok(ran.reader >= 1, `expected ${method} on the reader, saw ${JSON.stringify(ran)}`);
      assert.equal(ran.writer, 0, `${method} must not touch the writer`);
    });
  }

  it("reads return the data written through the writer (results are not altered by routing)", async () => {
    const team = await database.db.team.findUnique({ where: { team_id: "beta" } });
    assert.equal(team?.max_budget, 10);
    const rows = await database.db.$queryRaw<Array<{ n: bigint }>>`SELECT count(*) AS n FROM "tandem_team"`;
    assert.ok(Number(rows[0]?.n) >= 2);
  });

  let counter = 0;
  const alias = () => `w-${++counter}`;
  const writes: Array<[string, (db: Database["db"]) => Promise<unknown>]> = [
    ["create", (db) => db.team.create({ data: { team_alias: alias() } })],
    ["createMany", (db) => db.team.createMany({ data: [{ team_alias: alias() }] })],
    ["createManyAndReturn", (db) => db.team.createManyAndReturn({ data: [{ team_alias: alias() }] })],
    ["update", (db) => db.team.update({ where: { team_id: "alpha" }, data: { spend: { increment: 1 } } })],
    ["updateMany", (db) => db.team.updateMany({ where: { team_alias: "alpha" }, data: { spend: 0 } })],
    ["updateManyAndReturn", (db) => db.team.updateManyAndReturn({ where: { team_alias: "alpha" }, data: { spend: 0 } })],
    ["upsert", (db) => db.team.upsert({ where: { team_id: "gamma" }, create: { team_id: "gamma", team_alias: "gamma" }, update: {} })],
    ["delete", (db) => db.team.delete({ where: { team_id: "gamma" } })],
    ["deleteMany", (db) => db.team.deleteMany({ where: { team_alias: "does-not-exist" } })],
    ["$executeRaw", (db) => db.$executeRaw`UPDATE "tandem_team" SET spend = spend WHERE team_alias = 'alpha'`],
    ["$executeRawUnsafe", (db) => db.$executeRawUnsafe(`UPDATE "tandem_team" SET spend = spend WHERE team_alias = $1`, "alpha")],
  ];
  for (const [method, write] of writes) {
    it(`${method} runs on the writer only`, async () => {
      const ran = await witness.during(TEAM, () => write(database.db));
      assert.ok(ran.writer >= 1, `expected ${method} on the writer, saw ${JSON.stringify(ran)}`);
      assert.equal(ran.reader, 0);
    });
  }

  it("a batch $transaction runs wholly on the writer, reads included", async () => {
    const ran = await witness.during(TEAM, () =>
      database.db.$transaction([
        database.db.team.findMany(),
        database.db.team.count(),
        database.db.team.updateMany({ data: { spend: 0 } }),
      ]),
    );
    assert.ok(ran.writer >= 3, JSON.stringify(ran));
    assert.equal(ran.reader, 0);
  });

  it("a batch $transaction returns the reads' results in order", async () => {
    const [teams, n] = await database.db.$transaction([
      database.db.team.findMany({ orderBy: { team_alias: "asc" } }),
      database.db.team.count(),
    ]);
    assert.equal(teams.length, n);
  });

  it("an interactive $transaction runs wholly on the writer", async () => {
    const ran = await witness.during(TEAM, () =>
      database.db.$transaction(async (tx) => {
        const team = await tx.team.findUniqueOrThrow({ where: { team_id: "alpha" } });
        await tx.team.update({ where: { team_id: team.team_id }, data: { spend: { increment: 2 } } });
      }),
    );
    assert.ok(ran.writer >= 2, JSON.stringify(ran));
    assert.equal(ran.reader, 0);
  });

  it("reads through $primary() run on the writer", async () => {
    const ran = await witness.during(TEAM, () => database.db.$primary().team.findMany());
    assert.ok(ran.writer >= 1);
    assert.equal(ran.reader, 0);
  });

  it("anything not in the table goes to the writer (a client from $extends)", async () => {
    const extended = database.db.$extends({ name: "noop" });
    const ran = await witness.during(TEAM, () => extended.team.findMany());
    assert.ok(ran.writer >= 1, JSON.stringify(ran));
    assert.equal(ran.reader, 0);
  });

  it("reads are lazy like Prisma's: an unawaited read never runs", async () => {
    const ran = await witness.during(TEAM, async () => {
      void database.db.team.findMany({ where: { team_alias: "never" } });
      await new Promise((r) => setTimeout(r, 50));
    });
    assert.deepEqual([ran.writer, ran.reader], [0, 0]);
  });

  it("query errors on the reader are not rerouted: the caller gets Prisma's error and the writer sees nothing", async () => {
    let error: unknown;
    const ran = await witness.during(TEAM, async () => {
      error = await database.db.team.findUniqueOrThrow({ where: { team_id: "missing" } }).catch((e: unknown) => e);
    });
    assert.ok(error instanceof Prisma.PrismaClientKnownRequestError);
    assert.equal(error.code, "P2025");
    assert.equal(ran.writer, 0);
    assert.equal(database.reader.status, "connected");
  });

  it("a bad raw query fails with the database's error and is not retried on the writer", async () => {
    let error: unknown;
    const ran = await witness.during(/no_such_table/, async () => {
      error = await database.db.$queryRawUnsafe("SELECT * FROM no_such_table").catch((e: unknown) => e);
    });
    assert.ok(error instanceof Error);
    assert.match(error.message, /no_such_table/);
    assert.equal(ran.writer, 0);
    assert.equal(database.reader.status, "connected");
  });

  it("a write sent to the replica directly is refused (the pair is a real hot standby)", async () => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: pair.replica.url });
    await client.connect();
    const error = (await client.query(`INSERT INTO "tandem_team" (team_id, team_alias) VALUES ('x', 'x')`).catch((e: unknown) => e)) as {
      code?: string;
    };
    await client.end();
    assert.equal(error.code, "25006");
  });
});

describe("routing client without DATABASE_URL_READ_REPLICA", () => {
  it("sends every query to the single database and reports the reader disabled", async () => {
    const pair = await startMigratedPair();
    const database = await openDatabase(configFor(pair, { DATABASE_URL_READ_REPLICA: "" }), captureLogs().logger);
    const witness = await Witness.open(pair);
    try {
      const ran = await witness.during(TEAM, async () => {
        await database.db.team.create({ data: { team_alias: "solo" } });
        await database.db.team.findMany();
        await database.db.team.count();
        await database.db.$queryRaw`SELECT * FROM "tandem_team"`;
      });
      assert.equal(ran.reader, 0);
      assert.ok(ran.writer >= 4, JSON.stringify(ran));
      assert.equal(database.reader.status, "disabled");
      assert.equal(typeof database.db.$primary().team.findMany, "function");
    } finally {
      await witness.close();
      await database.close();
      pair.stop();
    }
  });
});
