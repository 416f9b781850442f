// The key cache: a reader with the replica's staleness bound, emptied by this pod's writes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { KeyCaller } from "./auth.js";
import { CallerCache } from "./caller-cache.js";

const caller = (token: string, teamId: string | null = null, userId: string | null = null, lsn?: bigint): KeyCaller =>
  ({
    kind: "key",
    // Team t2 is in organization o1, whose budget is b1.
    key: {
      token,
      team_id: teamId,
      user_id: userId,
      team: teamId === "t2" ? { team_id: teamId, organization: { organization_id: "o1", budget_id: "b1" } } : null,
    },
    user: null,
    snapshot: { lsn, at: 0 },
  }) as unknown as KeyCaller;

function cacheAt(ttlMs: number, maxEntries = 100) {
  let now = 0;
  return { cache: new CallerCache(ttlMs, maxEntries, () => now), advance: (ms: number) => (now += ms) };
}

describe("caller cache", () => {
  it("serves an entry until its TTL, then reads again", () => {
    const { cache, advance } = cacheAt(5000);
    cache.set(caller("k"));
    advance(4999);
    assert.ok(cache.get("k"));
    advance(1);
    assert.equal(cache.get("k"), undefined);
  });

  it("TTL 0 (DATABASE_READ_REPLICA_MAX_LAG_MS=0) caches nothing", () => {
    const { cache } = cacheAt(0);
    cache.set(caller("k"));
    assert.equal(cache.get("k"), undefined);
  });

  const invalidations: Array<[string, string[], string[]]> = [
    ["a key change drops that key", ["key:a"], ["b", "c"]],
    ["a team change drops the team's keys", ["team:t1"], ["c"]],
    ["a user change drops the user's keys", ["user:u1"], ["a", "b"]],
    ["an organization change drops its teams' keys", ["organization:o1"], ["a", "b"]],
    ["a change of the organization's budget drops its teams' keys", ["budget:b1"], ["a", "b"]],
    ["another budget drops nothing", ["budget:b2"], ["a", "b", "c"]],
    ["the caller scope alone drops nothing", ["caller:master"], ["a", "b", "c"]],
  ];
  for (const [what, scopes, left] of invalidations) {
    it(what, () => {
      const { cache } = cacheAt(5000);
      cache.set(caller("a", "t1"));
      cache.set(caller("b", "t1"));
      cache.set(caller("c", "t2", "u1"));
      cache.invalidate(scopes);
      assert.deepEqual(
        ["a", "b", "c"].filter((t) => cache.get(t)),
        left,
      );
    });
  }

  it("a request that needs a newer position (x-tandem-min-lsn) reads past an older entry", () => {
    const { cache } = cacheAt(5000);
    cache.set(caller("k", null, null, 100n));
    assert.ok(cache.get("k", 100n));
    assert.equal(cache.get("k", 101n), undefined);
  });

  it("holds at most maxEntries, dropping the oldest", () => {
    const { cache } = cacheAt(5000, 2);
    for (const t of ["a", "b", "c"]) cache.set(caller(t));
    assert.deepEqual([cache.size, !!cache.get("a"), !!cache.get("c")], [2, false, true]);
  });
});
