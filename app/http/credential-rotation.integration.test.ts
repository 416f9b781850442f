// A rotated database password, as Secrets Manager, Vault or External Secrets
// rotate it: the role's password changes in Postgres and in the mounted
// Secret files (DATABASE_URL_FILE, DATABASE_URL_READ_REPLICA_FILE) while
// requests run. Nothing fails, nothing restarts, and once the old backends
// are terminated every new connection — writer and reader — uses the new
// password (the old one no longer opens anything).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import OpenAI from "openai";
import { eventually, startProxy, type Proxy } from "../test-support/proxy.js";
import { assertNoSecrets, startMigratedPair, withPassword, type LocalPair } from "../test-support/pair.js";
import type { PgServer } from "../dev/local-pair.js";

const NEW_PASSWORD = "rotated-Pw-7f3a9c21";

/** kubelet's way: the new content lands in a new file that replaces the old in one rename. */
function swapIn(path: string, content: string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

async function onServer<T>(server: PgServer, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const tandemBackends = (server: PgServer) =>
  onServer<{ pid: number }>(server, "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'tandem-%' AND usename = 'tandem'");

describe("a database password rotated in Postgres and in the mounted Secret files while requests run", () => {
  let pair: LocalPair;
  let proxy: Proxy;
  let key: string;
  let files: { writer: string; reader: string };

  before(async () => {
    pair = await startMigratedPair();
    const dir = mkdtempSync(join(tmpdir(), "tandem-secret-"));
    files = { writer: join(dir, "DATABASE_URL"), reader: join(dir, "DATABASE_URL_READ_REPLICA") };
    writeFileSync(files.writer, pair.primary.url);
    writeFileSync(files.reader, pair.replica.url);
    proxy = await startProxy(
      {
        DATABASE_URL: "",
        DATABASE_URL_READ_REPLICA: "",
        DATABASE_URL_FILE: files.writer,
        DATABASE_URL_READ_REPLICA_FILE: files.reader,
        DATABASE_HEALTH_CHECK_INTERVAL_MS: "200",
        SPEND_FLUSH_INTERVAL_MS: "200",
      },
      { pair },
    );
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    await proxy.caughtUp();
  });
  after(async () => {
    await proxy?.logs.flush();
    if (proxy) assertNoSecrets(proxy.logs.lines, [pair.appPassword, NEW_PASSWORD, key]);
    await proxy?.stop();
    pair?.stop();
  });

  it("0 failed requests, no restart; after the old backends are terminated, writer and reader reconnect with the new password", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const loops = Array.from({ length: 4 }, async (_, i) => {
      while (running) {
        try {
          if (i === 0) {
            const info = await fetch(`${proxy.base}/key/info?key=${encodeURIComponent(key)}`, {
              headers: { authorization: `Bearer ${key}` },
            });
            if (info.status !== 200) failures.push(`key/info ${info.status} ${await info.text()}`);
            else await info.arrayBuffer();
          } else {
            await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "rotate" }] });
          }
          served++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    });

    const tandem = proxy.tandem;
    await eventually(
      async () => served,
      (n) => n >= 50,
      30_000,
    );
    // Rotation: Postgres first, then the Secret (as a rotation Lambda and External Secrets do). In
    // between, new connections are refused: the health probes ask through the pools' open
    // connections instead, so the pod stays ready and no request fails.
    await onServer(pair.primary, `ALTER ROLE tandem PASSWORD '${NEW_PASSWORD}'`);
    await pair.waitForReplay();
    const probedAt = Date.now();
    await tandem.database.runHealthCycle();
    await tandem.database.runHealthCycle();
    const window = await fetch(`${proxy.base}/health/readiness`);
    const inWindow = (await window.json()) as { db: { writer: string; reader: string } };
    assert.deepEqual(
      [window.status, inWindow.db.writer, inWindow.db.reader],
      [200, "connected", "connected"],
      `ready between the password change and the Secret's (${Date.now() - probedAt} ms)`,
    );
    swapIn(files.writer, withPassword(pair.primary.url, NEW_PASSWORD));
    swapIn(files.reader, withPassword(pair.replica.url, NEW_PASSWORD));
    await pair.waitForReplay();
    const before = served;
    await eventually(
      async () => served,
      (n) => n >= before + 50,
      30_000,
    );

    // The old connections go (as they do when recycled); every new one needs the new password.
    const old = { writer: await tandemBackends(pair.primary), reader: await tandemBackends(pair.replica) };
    for (const [server, backends] of [
      [pair.primary, old.writer],
      [pair.replica, old.reader],
    ] as const) {
      for (const { pid } of backends) await onServer(server, "SELECT pg_terminate_backend($1)", [pid]);
    }
    // A write on a fresh writer connection, a read on a fresh reader connection.
    const generated = await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } });
    assert.equal(generated.status, 200, JSON.stringify(generated.json));
    const afterTermination = served;
    await eventually(
      async () => served,
      (n) => n >= afterTermination + 50,
      30_000,
    );
    running = false;
    await Promise.all(loops);

    const oldPids = new Set([...old.writer, ...old.reader].map((b) => b.pid));
    // Reads may all have come from the key cache since: the health cycle's next look opens a reader
    // connection anyway (with the new password, or it could not).
    const fresh = await eventually(
      async () => ({ writer: await tandemBackends(pair.primary), reader: await tandemBackends(pair.replica) }),
      (now) => now.reader.some((b) => !oldPids.has(b.pid)) && now.writer.some((b) => !oldPids.has(b.pid)),
      30_000,
    ).catch(async () => ({ writer: await tandemBackends(pair.primary), reader: await tandemBackends(pair.replica) }));
    assert.ok(
      fresh.writer.some((b) => !oldPids.has(b.pid)),
      "a new writer connection opened with the new password",
    );
    assert.ok(
      fresh.reader.some((b) => !oldPids.has(b.pid)),
      "a new reader connection opened with the new password",
    );
    assert.deepEqual(failures, [], `${served} requests served`);
    assert.equal(proxy.tandem, tandem, "the same process served throughout");
    const readiness = (await (await fetch(`${proxy.base}/health/readiness`)).json()) as { db: { writer: string; reader: string } };
    assert.deepEqual(
      [readiness.db.writer, readiness.db.reader],
      ["connected", "connected"],
      "the health probes' fresh connections authenticate too",
    );
    const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
    const reader = `127.0.0.1:${pair.replica.port}`;
    assert.match(metrics, new RegExp(`tandem_db_reader_state\\{reader="${reader}",state="connected"\\} 1`), "each reader by host:port");
    assert.match(metrics, new RegExp(`tandem_db_reader_reads_total\\{reader="${reader}"\\} [1-9]`));
    assert.match(metrics, /tandem_db_writer_state\{state="connected"\} 1/);
    assert.doesNotMatch(metrics, new RegExp(NEW_PASSWORD), "no credential in the metrics");
    // The old password opens nothing any more: what connected above used the new one.
    const stale = new pg.Client({ connectionString: pair.primary.url });
    await assert.rejects(stale.connect(), (error: { code?: string }) => error.code === "28P01");
    console.log(`# rotation: ${served} requests, 0 failed; ${old.writer.length + old.reader.length} old backends terminated`);
  });
});
