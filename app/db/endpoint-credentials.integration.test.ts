// An endpoint takes its credentials from its source as it is now, for every
// new connection: a Secret file rewritten while the pool runs is used by the
// next connection, and a connection refused its password (28P01) reads the
// file again and tries once more — the moment a rotation lands.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config/env.js";
import { captureLogs } from "../test-support/logs.js";
import { startMigratedPair, withPassword, type LocalPair } from "../test-support/pair.js";
import { createEndpoint } from "./endpoint.js";

describe("an endpoint's credentials from a mounted Secret file", () => {
  let pair: LocalPair;
  let path: string;
  const logs = captureLogs();

  before(async () => {
    pair = await startMigratedPair();
    path = join(mkdtempSync(join(tmpdir(), "tandem-cred-")), "DATABASE_URL");
  });
  after(() => pair?.stop());

  it("a password refused (28P01) is read again from the file and the connection tried once more", async () => {
    writeFileSync(path, withPassword(pair.primary.url, "not-the-password"));
    const { writer } = loadConfig({ DATABASE_URL_FILE: path }, "migrate");
    const retries: string[] = [];
    const endpoint = createEndpoint(writer, {
      poolLimit: 2,
      log: logs.logger,
      // The Secret lands while the first attempt is being refused.
      onAuthRetry: (role, name) => {
        retries.push(`${role} ${name}`);
        writeFileSync(path, pair.primary.url);
      },
    });
    try {
      const rows = await endpoint.client.$queryRawUnsafe<Array<{ ok: number }>>("SELECT 1 AS ok");
      assert.deepEqual(rows, [{ ok: 1 }]);
      assert.deepEqual(retries, [`writer 127.0.0.1:${pair.primary.port}`]);
    } finally {
      await endpoint.close();
    }
  });

  it("a password still wrong after the second read fails with the server's error, once retried", async () => {
    writeFileSync(path, withPassword(pair.primary.url, "still-wrong-password"));
    const { writer } = loadConfig({ DATABASE_URL_FILE: path }, "migrate");
    let retries = 0;
    const endpoint = createEndpoint(writer, { poolLimit: 2, log: logs.logger, onAuthRetry: () => retries++ });
    try {
      await assert.rejects(endpoint.client.$queryRawUnsafe("SELECT 1"), /authentication failed/);
      assert.equal(retries, 1);
    } finally {
      await endpoint.close();
    }
  });
});
