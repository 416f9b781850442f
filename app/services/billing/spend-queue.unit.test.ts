// What a budget check adds to the spend it read: this pod's spend the read did not include.
import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { SpendQueue } from "./spend-queue.js";
import type { SpendRecord } from "./spend.js";

const record = (requestId: string, cost: number, teamId: string | null = "t"): SpendRecord => ({
  requestId,
  token: "k",
  keyed: true,
  teamId,
  userId: "u",
  model: "m",
  usage: { prompt_tokens: 1, completion_tokens: 1 },
  cost,
  startTime: new Date(0),
  endTime: new Date(0),
});

function queue(replica: boolean) {
  let now = 1000;
  let replayed: bigint | undefined = 0n;
  let lsn = 0n;
  const q = new SpendQueue(async () => (lsn += 10n), {
    intervalMs: 1000,
    maxBatch: 100,
    maxQueued: 100,
    log: pino({ level: "silent" }),
    replayed: replica ? () => replayed : undefined,
    retainMs: 10_000,
    now: () => now,
  });
  return { q, advance: (ms: number) => (now += ms), replay: (to: bigint) => (replayed = to), now: () => now };
}

describe("spend queue: unwritten spend per scope", () => {
  it("queued spend counts for the key, its team and its user; not for others", async () => {
    const { q } = queue(true);
    q.enqueue(record("a", 1));
    q.enqueue(record("b", 2, null));
    assert.deepEqual(
      ["key:k", "team:t", "user:u", "key:other"].map((s) => q.unwritten(s)),
      [3, 1, 3, 0],
    );
  });

  it("a fresh read: written spend counts until the replica has replayed it", async () => {
    const { q, replay } = queue(true);
    q.enqueue(record("a", 1));
    await q.flush(); // written at position 10
    assert.equal(q.unwritten("key:k"), 1);
    replay(10n);
    assert.equal(q.unwritten("key:k"), 0);
  });

  it("a cached read (snapshot at position 5): spend written after it counts even once replayed, until retained no longer", async () => {
    const { q, replay, advance } = queue(true);
    q.enqueue(record("a", 1));
    await q.flush(); // position 10
    replay(10n);
    assert.equal(q.unwritten("key:k", { lsn: 5n, at: 0 }), 1, "the snapshot predates the write");
    assert.equal(q.unwritten("key:k", { lsn: 10n, at: 0 }), 0, "the snapshot includes it");
    advance(10_000);
    assert.equal(q.unwritten("key:k", { lsn: 5n, at: 0 }), 0, "past retainMs (longer than any cached entry lives)");
  });

  it("no replica: a fresh read sees every written batch; a cached read counts batches written after it, by time", async () => {
    const { q, now, advance } = queue(false);
    const before = { at: now() };
    advance(1);
    q.enqueue(record("a", 1));
    await q.flush();
    assert.equal(q.unwritten("key:k"), 0);
    assert.equal(q.unwritten("key:k", before), 1);
    assert.equal(q.unwritten("key:k", { at: now() + 1 }), 0);
  });
});

describe("spend queue: a mirror (the fleet's Redis) holding entries too", () => {
  function mirrored(accept: (id: string) => boolean, answered: Promise<void> = Promise.resolve()) {
    const written: Array<{ ids: string[]; lsn: bigint | undefined }> = [];
    const mirror = {
      hold: async (entry: SpendRecord) => {
        await answered;
        return accept(entry.requestId);
      },
      written: (entries: readonly SpendRecord[], lsn: bigint | undefined) =>
        void written.push({ ids: entries.map((e) => e.requestId), lsn }),
    };
    const q = new SpendQueue(async () => 10n, {
      intervalMs: 1000,
      maxBatch: 100,
      maxQueued: 100,
      log: pino({ level: "silent" }),
      replayed: () => 0n,
      retainMs: 10_000,
      mirror,
    });
    return { q, written };
  }
  const held = () => new Promise<void>((resolve) => setImmediate(resolve));

  it("pending entries the mirror holds are counted apart (the fleet's count has them); the rest are this pod's alone", async () => {
    const { q } = mirrored((id) => id !== "b");
    q.enqueue(record("a", 1));
    q.enqueue(record("b", 2));
    assert.deepEqual([q.unwritten("key:k"), q.unwrittenParts("key:k").mirrored], [3, 0], "before the mirror answers, all is this pod's");
    await held();
    assert.deepEqual([q.unwritten("key:k"), q.unwrittenParts("key:k").mirrored], [3, 1]);
  });

  it("a written batch keeps the split until replayed, and the mirror learns the entries and their position", async () => {
    const { q, written } = mirrored(() => true);
    q.enqueue(record("a", 1));
    q.enqueue(record("b", 2));
    await held();
    await q.flush();
    assert.deepEqual([q.unwritten("key:k"), q.unwrittenParts("key:k").mirrored], [3, 3]);
    assert.deepEqual(written, [{ ids: ["a", "b"], lsn: 10n }]);
  });

  it("an entry written before the mirror answered stays this pod's alone (counting it twice errs high, never low)", async () => {
    let answer = () => undefined as void;
    const { q } = mirrored(() => true, new Promise<void>((resolve) => (answer = resolve)));
    q.enqueue(record("a", 1));
    await q.flush();
    answer();
    await held();
    assert.deepEqual([q.unwritten("key:k"), q.unwrittenParts("key:k").mirrored], [1, 0]);
  });
});

describe("spend queue: flushing", () => {
  it("a backlog of several batches is written back to back, not one batch per interval", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const written: number[] = [];
      const q = new SpendQueue(
        async (batch) => {
          written.push(batch.length);
          return 0n;
        },
        { intervalMs: 1000, maxBatch: 10, maxQueued: 1000, log: pino({ level: "silent" }), retainMs: 0 },
      );
      for (let i = 0; i < 35; i++) q.enqueue(record(`r${i}`, 1));
      q.start();
      const runDue = async () => {
        for (let i = 0; i < 20; i++) {
          await new Promise<void>((resolve) => queueMicrotask(resolve));
          mock.timers.tick(0); // the timers due now, none of a later interval
        }
      };
      mock.timers.tick(1000);
      await runDue();
      assert.deepEqual(written, [10, 10, 10], "one interval: every full batch");
      mock.timers.tick(1000);
      await runDue();
      assert.deepEqual(written, [10, 10, 10, 5], "less than a batch waits for the next interval");
    } finally {
      mock.timers.reset();
    }
  });
});
