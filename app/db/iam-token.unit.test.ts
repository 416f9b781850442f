// Refresh cadence and independence of the writer's and reader's IAM tokens,
// with fake timers and a stubbed signer (the real signer is exercised against
// a real Postgres in iam-token.integration.test.ts).
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { IamTokenProvider, type TokenSigner } from "./iam-token.js";
import { captureLogs } from "../test-support/logs.js";
import { scrub } from "../observability/secrets.js";

const MINUTE = 60_000;

class StubSigner implements TokenSigner {
  calls = 0;
  failing = false;
  constructor(private readonly prefix: string) {}
  async getAuthToken(): Promise<string> {
    this.calls++;
    if (this.failing) throw new Error("ExpiredTokenException: the security token included in the request is expired");
    return `${this.prefix}-token-${this.calls}-${"x".repeat(40)}`;
  }
}

// Timers fire callbacks whose promises settle on later ticks.
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => queueMicrotask(r));
};

describe("IAM token provider", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
  afterEach(() => mock.timers.reset());

  it("refreshes about every 12 minutes, before the 15-minute lifetime ends", async () => {
    const signer = new StubSigner("w");
    const provider = new IamTokenProvider({ signer, label: "writer", log: captureLogs().logger });
    await provider.start();
    assert.equal(signer.calls, 1);
    mock.timers.tick(11 * MINUTE);
    await settle();
    assert.equal(signer.calls, 1, "no refresh before 12 minutes");
    mock.timers.tick(1 * MINUTE);
    await settle();
    assert.equal(signer.calls, 2, "refreshed at 12 minutes");
    assert.match(await provider.current(), /^w-token-2-/);
    mock.timers.tick(12 * MINUTE);
    await settle();
    assert.equal(signer.calls, 3);
    provider.stop();
  });

  it("writer and reader refresh on their own schedules: a failing reader signer does not touch the writer's token", async () => {
    const writerSigner = new StubSigner("w");
    const readerSigner = new StubSigner("r");
    const log = captureLogs().logger;
    const writer = new IamTokenProvider({ signer: writerSigner, label: "writer", log });
    const reader = new IamTokenProvider({ signer: readerSigner, label: "reader", log });
    await writer.start();
    mock.timers.tick(5 * MINUTE); // the reader starts later, so its cycle is offset
    await reader.start();

    mock.timers.tick(7 * MINUTE);
    await settle();
    assert.deepEqual([writerSigner.calls, readerSigner.calls], [2, 1], "only the writer was due");

    readerSigner.failing = true;
    mock.timers.tick(5 * MINUTE);
    await settle();
    assert.deepEqual([writerSigner.calls, readerSigner.calls], [2, 2], "the reader was due and failed");
    assert.match(await writer.current(), /^w-token-2-/);
    writer.stop();
    reader.stop();
  });

  it("a failed refresh is logged and retried while the current token stays in use until it expires", async () => {
    const signer = new StubSigner("w");
    const logs = captureLogs();
    const provider = new IamTokenProvider({ signer, label: "writer", log: logs.logger, retryMs: 30_000 });
    await provider.start();
    const first = await provider.current();

    signer.failing = true;
    mock.timers.tick(12 * MINUTE);
    await settle();
    assert.equal(signer.calls, 2);
    assert.equal(await provider.current(), first, "still valid at 12 minutes: keep using it");
    await logs.flush();
    assert.ok(logs.messages().some((m) => /IAM auth token refresh failed for the writer; retrying in 30s/.test(m)));

    mock.timers.tick(30_000);
    await settle();
    assert.equal(signer.calls, 3, "retried after 30 s");

    signer.failing = false;
    mock.timers.tick(30_000);
    await settle();
    assert.equal(signer.calls, 4);
    assert.match(await provider.current(), /^w-token-4-/);
    provider.stop();
  });

  it("an expired token is never handed out: past 15 minutes a new one is fetched or the connection fails", async () => {
    const signer = new StubSigner("w");
    const provider = new IamTokenProvider({ signer, label: "writer", log: captureLogs().logger });
    await provider.start();
    provider.stop(); // no background refresh
    mock.timers.tick(15 * MINUTE);
    signer.failing = true;
    await assert.rejects(provider.current(), /ExpiredTokenException/);
    signer.failing = false;
    assert.match(await provider.current(), /^w-token-3-/);
  });

  it("tokens are registered as secrets: they are scrubbed from any text that is logged", async () => {
    const signer = new StubSigner("secret");
    const provider = new IamTokenProvider({ signer, label: "reader", log: captureLogs().logger });
    const token = await provider.current();
    assert.equal(scrub(`password authentication failed (${token})`), "password authentication failed ([REDACTED])");
    provider.stop();
  });
});
