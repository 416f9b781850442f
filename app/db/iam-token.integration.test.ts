// An RDS IAM token from the real AWS signer reaches a real Postgres
// connection, for the writer and the reader independently. RDS accepts any
// token it signed; here each issued token becomes its role's password at the
// moment it is issued, which is what RDS's check amounts to.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { openDatabase } from "./database.js";
import { rdsSigner, type TokenSigner } from "./iam-token.js";
import { loadConfig } from "../config/env.js";
import { assertNoSecrets, startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { captureLogs } from "../test-support/logs.js";

describe("RDS IAM authentication against a real Postgres pair", () => {
  let pair: LocalPair;
  const issued: Record<string, string[]> = { iam_writer: [], iam_reader: [] };

  before(async () => {
    pair = await startMigratedPair();
    process.env.AWS_ACCESS_KEY_ID = "AKIDEXAMPLEEXAMPLE";
    process.env.AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const admin = new pg.Client({ connectionString: pair.primary.adminUrl });
    await admin.connect();
    for (const role of Object.keys(issued)) {
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD NULL`);
      await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
    }
    await admin.end();
  });
  after(() => pair?.stop());

  /** The real signer, plus what RDS would do: accept this token for this role from now on. */
  function provisioning(role: string, port: number, region: string): TokenSigner {
    const real = rdsSigner({ host: "127.0.0.1", port, user: role, region });
    return {
      async getAuthToken() {
        const token = await real.getAuthToken();
        const admin = new pg.Client({ connectionString: pair.primary.adminUrl });
        await admin.connect();
        await admin.query(`ALTER ROLE ${role} PASSWORD ${pg.escapeLiteral(token)}`);
        await admin.end();
        await pair.waitForReplay(); // the role's password must reach the replica too
        issued[role]?.push(token);
        return token;
      },
    };
  }

  it("writer and reader each connect with their own signed token and their own region", async () => {
    const logs = captureLogs();
    const config = loadConfig({
      DATABASE_URL: `postgresql://iam_writer@127.0.0.1:${pair.primary.port}/tandem?sslmode=disable`,
      DATABASE_URL_READ_REPLICA: `postgresql://iam_reader@127.0.0.1:${pair.replica.port}/tandem?sslmode=disable`,
      IAM_TOKEN_DB_AUTH: "True",
      AWS_REGION: "us-east-1",
      AWS_RDS_READ_REPLICA_REGION: "eu-west-1",
      MASTER_KEY: "sk-master",
    });
    assert.equal(config.writer.iamRegion, "us-east-1");
    assert.equal(config.readers[0]?.iamRegion, "eu-west-1");

    const database = await openDatabase(config, logs.logger, {
      signers: {
        writer: provisioning("iam_writer", pair.primary.port, config.writer.iamRegion ?? ""),
        reader: provisioning("iam_reader", pair.replica.port, config.readers[0]?.iamRegion ?? ""),
      },
    });
    const witness = await Witness.open(pair);
    try {
      assert.equal(database.writerStatus(), "connected");
      assert.equal(database.reader.status, "connected");
      await database.db.team.create({ data: { team_id: "iam-team", team_alias: "iam-team" } });
      await pair.waitForReplay();
      const ran = await witness.during(/"tandem_team"/, async () => {
        assert.equal((await database.db.team.findUniqueOrThrow({ where: { team_id: "iam-team" } })).team_alias, "iam-team");
      });
      assert.equal(ran.reader, 1, "the read ran on the replica, authenticated with the reader's token");

      const [writerToken] = issued.iam_writer ?? [];
      const [readerToken] = issued.iam_reader ?? [];
      assert.match(writerToken ?? "", new RegExp(`^127\\.0\\.0\\.1:${pair.primary.port}/\\?Action=connect&DBUser=iam_writer&.*us-east-1`));
      assert.match(readerToken ?? "", new RegExp(`^127\\.0\\.0\\.1:${pair.replica.port}/\\?Action=connect&DBUser=iam_reader&.*eu-west-1`));
    } finally {
      await witness.close();
      await database.close();
    }
    await logs.flush();
    assertNoSecrets(logs.lines, [...(issued.iam_writer ?? []), ...(issued.iam_reader ?? [])]);
  });

  it("a wrong token is refused by Postgres: the token is what authenticates", async () => {
    const config = loadConfig({
      DATABASE_URL: `postgresql://iam_writer@127.0.0.1:${pair.primary.port}/tandem?sslmode=disable`,
      IAM_TOKEN_DB_AUTH: "1",
      AWS_REGION: "us-east-1",
      MASTER_KEY: "sk-master",
    });
    const logs = captureLogs();
    const database = await openDatabase(config, logs.logger, {
      signers: { writer: { getAuthToken: async () => "not-the-token-postgres-knows" } },
    });
    try {
      assert.equal(database.writerStatus(), "disconnected");
      await assert.rejects(database.db.team.count());
    } finally {
      await database.close();
    }
    await logs.flush();
    assertNoSecrets(logs.lines, ["not-the-token-postgres-knows"]);
  });
});
