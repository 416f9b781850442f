// Items added in one turn of the event loop are flushed together; items added while a flush is in
// flight wait for it and go together in the next one.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Batcher } from "./batcher.js";

describe("batcher", () => {
  it("one flush for everything added in the same turn, another for the next turn", async () => {
    const flushed: number[][] = [];
    const batcher = new Batcher<number>(async (items) => void flushed.push(items));
    await Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
    await batcher.add(4);
    assert.deepEqual(flushed, [[1, 2, 3], [4]]);
  });

  it("one call in flight at a time: what arrives meanwhile goes in the next call, all together, as soon as it returns", async () => {
    const flushed: number[][] = [];
    let release!: () => void;
    const batcher = new Batcher<number>(async (items) => {
      flushed.push(items);
      if (items[0] === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = batcher.add(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((n) => batcher.add(n));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(flushed, [[1]]);
    release();
    await Promise.all([first, ...later]);
    assert.deepEqual(flushed, [[1], [2, 3, 4]]);
  });

  it("each add gets its own answer from the flush", async () => {
    const batcher = new Batcher<number, number>(async (items) => items.map((n) => n * 10));
    assert.deepEqual(await Promise.all([batcher.add(1), batcher.add(2)]), [10, 20]);
  });

  it("a failed flush rejects every add of its batch, and the next batch is unaffected", async () => {
    let fail = true;
    const batcher = new Batcher<number>(async () => {
      if (fail) throw new Error("redis away");
    });
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    fail = false;
    await batcher.add(3);
  });
});
