// Every routing rule of the read router, with stub callbacks: which side
// answers, why, and what happens to the reader's state.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readRouter, type FallbackReason } from "./read-router.js";
import { ReaderState, type ReaderStatus } from "./reader-state.js";
import { runWithConsistency } from "./consistency.js";
import { createLogger } from "../observability/logger.js";

const log = createLogger("silent");

function setup(opts: { status?: ReaderStatus; position?: bigint; busy?: boolean; readTimeoutMs?: number } = {}) {
  const reader = new ReaderState(true, log);
  if (opts.status === "degraded") reader.markDegraded(new Error("down"), "health-check");
  if (opts.status === "lagging") reader.markReachable(10_000, 5000);
  const reasons: FallbackReason[] = [];
  const router = readRouter({
    reader,
    readerPosition: () => opts.position,
    readerBusy: () => opts.busy ?? false,
    readTimeoutMs: opts.readTimeoutMs ?? 1000,
    onFallback: (r) => reasons.push(r),
  });
  return { reader, reasons, router };
}

const fromReader = () => Promise.resolve("reader");
const fromWriter = () => Promise.resolve("writer");
const failing = (error: unknown) => () => Promise.reject(error);
const pgError = (code: string, message = "boom") => Object.assign(new Error(message), { code });

describe("read router: where one read runs", () => {
  const table: Array<{
    name: string;
    setup: Parameters<typeof setup>[0];
    onReader: () => Promise<string>;
    minLsn?: bigint;
    answer: string;
    reason?: FallbackReason;
    readerAfter: ReaderStatus;
  }> = [
    { name: "a usable reader answers", setup: {}, onReader: fromReader, answer: "reader", readerAfter: "connected" },
    {
      name: "a degraded reader is skipped",
      setup: { status: "degraded" },
      onReader: fromReader,
      answer: "writer",
      reason: "reader-degraded",
      readerAfter: "degraded",
    },
    {
      name: "a lagging reader is skipped",
      setup: { status: "lagging" },
      onReader: fromReader,
      answer: "writer",
      reason: "reader-lagging",
      readerAfter: "lagging",
    },
    {
      name: "a saturated reader sheds the read, and stays connected",
      setup: { busy: true },
      onReader: fromReader,
      answer: "writer",
      reason: "reader-busy",
      readerAfter: "connected",
    },
    {
      name: "a read needing a write the reader has not replayed goes to the writer",
      setup: { position: 100n },
      minLsn: 101n,
      onReader: fromReader,
      answer: "writer",
      reason: "read-your-writes",
      readerAfter: "connected",
    },
    {
      name: "a read whose write the reader has replayed stays on the reader",
      setup: { position: 101n },
      minLsn: 101n,
      onReader: fromReader,
      answer: "reader",
      readerAfter: "connected",
    },
    {
      name: "an unknown reader position counts as behind",
      setup: {},
      minLsn: 1n,
      onReader: fromReader,
      answer: "writer",
      reason: "read-your-writes",
      readerAfter: "connected",
    },
    {
      name: "a connection error is retried on the writer and degrades the reader",
      setup: {},
      onReader: failing(pgError("ECONNREFUSED")),
      answer: "writer",
      reason: "reader-connection-error",
      readerAfter: "degraded",
    },
    {
      name: "a shutdown (57P01) is retried on the writer",
      setup: {},
      onReader: failing(pgError("57P01")),
      answer: "writer",
      reason: "reader-connection-error",
      readerAfter: "degraded",
    },
    {
      name: "a refused write (25006) is retried on the writer; the reader is fine",
      setup: {},
      onReader: failing(pgError("25006")),
      answer: "writer",
      reason: "reader-refused-write",
      readerAfter: "connected",
    },
    {
      name: "a pool timeout with a pool not saturated counts as unreachable",
      setup: {},
      onReader: failing(new Error("timeout exceeded when trying to connect")),
      answer: "writer",
      reason: "reader-connection-error",
      readerAfter: "degraded",
    },
    {
      name: "no answer within the read timeout: the writer answers, the reader is degraded",
      setup: { readTimeoutMs: 20 },
      onReader: () => new Promise<string>(() => undefined),
      answer: "writer",
      reason: "reader-timeout",
      readerAfter: "degraded",
    },
  ];
  for (const row of table) {
    it(row.name, async () => {
      const { reader, reasons, router } = setup(row.setup);
      const answer = await runWithConsistency({ minLsn: row.minLsn }, () => router.read(row.onReader, fromWriter));
      assert.equal(answer, row.answer);
      assert.deepEqual(reasons, row.reason ? [row.reason] : []);
      assert.equal(reader.status, row.readerAfter);
    });
  }

  it("a query error (wrong SQL) is rethrown untouched; the writer is not asked", async () => {
    const { router, reasons } = setup();
    let writerAsked = false;
    const error = pgError("42P01", 'relation "nope" does not exist');
    await assert.rejects(
      router.read(failing(error), () => {
        writerAsked = true;
        return fromWriter();
      }),
      (e) => e === error,
    );
    assert.equal(writerAsked, false);
    assert.deepEqual(reasons, []);
  });

  it("a pool timeout while the reader's pool is saturated sheds without degrading", async () => {
    let busy = false;
    const reader = new ReaderState(true, log);
    const router = readRouter({ reader, readerPosition: () => undefined, readerBusy: () => busy, readTimeoutMs: 1000 });
    const answer = await router.read(() => {
      busy = true; // the pool filled up while this read waited for a connection
      return Promise.reject(new Error("timeout exceeded when trying to connect"));
    }, fromWriter);
    assert.equal(answer, "writer");
    assert.equal(reader.status, "connected");
  });
});
