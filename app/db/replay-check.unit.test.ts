// Read-your-writes on demand: an instance asked whether it has replayed a
// position — known already, asked once however many reads wait, bounded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../observability/logger.js";
import type { Endpoint } from "./endpoint.js";
import { ReplayCheck, type ReplayCheckResult } from "./replay-check.js";
import { NEVER_BEHIND, ReaderSet } from "./reader-set.js";

const log = createLogger("silent");

function instance(answer: () => Promise<{ standby: boolean; replay: string | null }>) {
  let asked = 0;
  const endpoint = {
    name: "r:5432",
    pool: {
      query: async () => {
        asked++;
        return { rows: [await answer()] };
      },
    },
    saturated: () => false,
    recycle: () => undefined,
  } as unknown as Endpoint;
  const member = ReaderSet.of([endpoint], log).members[0]!;
  return { member, asked: () => asked };
}

describe("replay check", () => {
  it("known to have it: no question asked", async () => {
    const { member, asked } = instance(async () => ({ standby: true, replay: "0/10" }));
    member.replay = 0x20n;
    assert.equal(await new ReplayCheck(100).reached(member, 0x20n), true);
    assert.equal(asked(), 0);
  });

  const table: Array<{ name: string; row: { standby: boolean; replay: string | null }; result: ReplayCheckResult; reached: boolean }> = [
    { name: "replayed by now: the read may run there", row: { standby: true, replay: "0/30" }, result: "replayed", reached: true },
    { name: "still behind: the writer answers", row: { standby: true, replay: "0/18" }, result: "behind", reached: false },
    { name: "no longer a standby (promoted): it has everything", row: { standby: false, replay: null }, result: "replayed", reached: true },
  ];
  for (const row of table) {
    it(row.name, async () => {
      const { member } = instance(async () => row.row);
      member.replay = 0x10n;
      const results: ReplayCheckResult[] = [];
      assert.equal(await new ReplayCheck(100, (_m, r) => results.push(r)).reached(member, 0x20n), row.reached);
      assert.deepEqual(results, [row.result]);
    });
  }

  it("what it says is kept: a position only grows", async () => {
    const { member } = instance(async () => ({ standby: true, replay: "0/18" }));
    member.replay = 0x40n;
    await new ReplayCheck(100).reached(member, 0x50n);
    assert.equal(member.replay, 0x40n);
    const promoted = instance(async () => ({ standby: false, replay: null }));
    await new ReplayCheck(100).reached(promoted.member, 0x50n);
    assert.equal(promoted.member.replay, NEVER_BEHIND);
  });

  it("one question in flight per instance: reads waiting meanwhile share its answer", async () => {
    let release: () => void = () => undefined;
    const { member, asked } = instance(() => new Promise((resolve) => (release = () => resolve({ standby: true, replay: "0/30" }))));
    member.replay = 0x10n;
    const check = new ReplayCheck(1000);
    const waiting = Array.from({ length: 5 }, () => check.reached(member, 0x20n));
    await new Promise((r) => setImmediate(r));
    release();
    assert.deepEqual(await Promise.all(waiting), [true, true, true, true, true]);
    assert.equal(asked(), 1);
  });

  it("no answer within the bound: unanswered, and the read goes to the writer", async () => {
    const { member } = instance(() => new Promise(() => undefined));
    member.replay = 0x10n;
    const results: ReplayCheckResult[] = [];
    assert.equal(await new ReplayCheck(30, (_m, r) => results.push(r)).reached(member, 0x20n), false);
    assert.deepEqual(results, ["unanswered"]);
  });
});
