// Every routing rule of the read router, with stub callbacks: which side
// answers, why, and what happens to the reader's state.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readRouter, type FallbackReason } from "./read-router.js";
import type { ReaderStatus } from "./reader-state.js";
import { ReaderSet } from "./reader-set.js";
import { runWithConsistency } from "./consistency.js";
import { createLogger } from "../observability/logger.js";
import { stubEndpoint } from "../test-support/stub-endpoint.js";

const log = createLogger("silent");

function setup(opts: { status?: ReaderStatus; position?: bigint; busy?: boolean; readTimeoutMs?: number } = {}) {
  const readers = ReaderSet.of([stubEndpoint("replica:5432", () => opts.busy ?? false)], log);
  const member = readers.members[0]!;
  member.replay = opts.position;
  if (opts.status === "degraded") member.state.markDegraded(new Error("down"), "health-check");
  if (opts.status === "lagging") member.state.markReachable(10_000, 5000);
  const reasons: FallbackReason[] = [];
  const router = readRouter({
    readers,
    readTimeoutMs: opts.readTimeoutMs ?? 1000,
    onFallback: (r) => reasons.push(r),
  });
  return { reader: member.state, reasons, router };
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
      name: "credentials refused for a new connection (28P01) are retried on the writer; the reader's open connections are kept",
      setup: {},
      onReader: failing(pgError("28P01", 'password authentication failed for user "tandem"')),
      answer: "writer",
      reason: "reader-auth-failed",
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

  it("a read needing a write the reader was not seen replaying, while the writer is away: the readers are measured again, and the reader answers", async () => {
    const readers = ReaderSet.of([stubEndpoint("replica:5432", () => false)], log);
    const member = readers.members[0]!;
    member.replay = 10n;
    let measured = 0;
    const router = readRouter({
      readers,
      readTimeoutMs: 1000,
      writerAway: () => true,
      remeasure: async () => {
        measured++;
        member.replay = 20n;
      },
    });
    assert.equal(await runWithConsistency({ minLsn: 15n }, () => router.read(fromReader, fromWriter)), "reader");
    assert.equal(measured, 1);
  });

  it("the writer found unreachable by that read (before the health cycle saw it): the readers are measured, and the reader answers", async () => {
    const readers = ReaderSet.of([stubEndpoint("replica:5432", () => false)], log);
    const member = readers.members[0]!;
    member.replay = 10n;
    const router = readRouter({
      readers,
      readTimeoutMs: 1000,
      writerAway: () => false,
      remeasure: async () => void (member.replay = 20n),
    });
    const writerDown = failing(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
    assert.equal(await runWithConsistency({ minLsn: 15n }, () => router.read(fromReader, writerDown)), "reader");
  });

  it("the same when the reader has still not replayed the write: the writer's error stands", async () => {
    const readers = ReaderSet.of([stubEndpoint("replica:5432", () => false)], log);
    readers.members[0]!.replay = 10n;
    const router = readRouter({ readers, readTimeoutMs: 1000, writerAway: () => false, remeasure: async () => undefined });
    const error = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    await assert.rejects(
      runWithConsistency({ minLsn: 15n }, () => router.read(fromReader, failing(error))),
      (e) => e === error,
    );
  });

  it("the same with the writer connected: the writer answers at once, nothing is measured", async () => {
    const readers = ReaderSet.of([stubEndpoint("replica:5432", () => false)], log);
    readers.members[0]!.replay = 10n;
    let measured = 0;
    const router = readRouter({ readers, readTimeoutMs: 1000, writerAway: () => false, remeasure: async () => void measured++ });
    assert.equal(await runWithConsistency({ minLsn: 15n }, () => router.read(fromReader, fromWriter)), "writer");
    assert.equal(measured, 0);
  });

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
    const readers = ReaderSet.of([stubEndpoint("replica:5432", () => busy)], log);
    const router = readRouter({ readers, readTimeoutMs: 1000 });
    const answer = await router.read(() => {
      busy = true; // the pool filled up while this read waited for a connection
      return Promise.reject(new Error("timeout exceeded when trying to connect"));
    }, fromWriter);
    assert.equal(answer, "writer");
    assert.equal(readers.members[0]!.state.status, "connected");
  });

  it("with two readers, a read the first fails is answered by the writer and the next ones go to the other reader", async () => {
    const readers = ReaderSet.of([stubEndpoint("a:5432"), stubEndpoint("b:5432")], log);
    const router = readRouter({ readers, readTimeoutMs: 1000 });
    const served: string[] = [];
    const onReader = (client: unknown) => {
      const { name } = client as { name: string };
      return name === "a:5432" ? Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })) : Promise.resolve(name);
    };
    for (let i = 0; i < 4; i++) served.push(await router.read(onReader, fromWriter));
    assert.equal(readers.members[0]!.state.status, "degraded");
    assert.equal(readers.members[1]!.state.status, "connected");
    assert.equal(served.filter((s) => s === "writer").length, 1, `only the read that hit the dead reader: ${served.join(",")}`);
    assert.equal(served.filter((s) => s === "b:5432").length, 3);
  });

  describe("read-your-writes on demand", () => {
    const asking = (answer: boolean) => {
      const readers = ReaderSet.of([stubEndpoint("a:5432"), stubEndpoint("b:5432")], log);
      readers.members[0]!.replay = 10n;
      readers.members[1]!.replay = 12n;
      const asked: Array<[string, bigint]> = [];
      const reasons: FallbackReason[] = [];
      const router = readRouter({
        readers,
        readTimeoutMs: 1000,
        onFallback: (r) => reasons.push(r),
        replayed: async (member, lsn) => (asked.push([member.name, lsn]), answer),
      });
      const onReader = (client: unknown) => Promise.resolve((client as { name: string }).name);
      return { asked, reasons, read: (minLsn = 15n) => runWithConsistency({ minLsn }, () => router.read(onReader, fromWriter)) };
    };

    it("the furthest instance is asked; if it has replayed the write by now, the read runs there", async () => {
      const { asked, reasons, read } = asking(true);
      assert.equal(await read(), "b:5432");
      assert.deepEqual(asked, [["b:5432", 15n]]);
      assert.deepEqual(reasons, []);
    });

    it("if it has not, the writer answers, as read-your-writes", async () => {
      const { reasons, read } = asking(false);
      assert.equal(await read(), "writer");
      assert.deepEqual(reasons, ["read-your-writes"]);
    });

    it("an instance already known to have it is used without asking", async () => {
      const { asked, read } = asking(false);
      assert.equal(await read(11n), "b:5432");
      assert.deepEqual(asked, []);
    });
  });
});
