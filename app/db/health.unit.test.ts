// Lag from WAL positions: an idle writer is not lag; a paused replay is lag
// from the first write it misses.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { captureLogs } from "../test-support/logs.js";
import { readerMissIsFinal, WritePositions, type MissEvidence } from "./consistency.js";
import type { Endpoint } from "./endpoint.js";
import { HealthMonitor, lagMs, type WriterSample } from "./health.js";
import { formatLsn, parseLsn } from "./lsn.js";
import { ReaderSet, type ReaderMember } from "./reader-set.js";
import { ReaderState } from "./reader-state.js";
import type { ReaderAddress } from "./reader-address.js";
import { stubEndpoint } from "../test-support/stub-endpoint.js";

const samples = (...points: Array<[number, number]>): WriterSample[] => points.map(([at, lsn]) => ({ at, lsn: BigInt(lsn) }));

describe("lag from WAL positions", () => {
  const table: Array<{ name: string; samples: WriterSample[]; replay: number; now: number; lag: number }> = [
    { name: "no samples yet: no lag known to be", samples: [], replay: 0, now: 1000, lag: 0 },
    { name: "caught up with the latest writer position", samples: samples([0, 100], [1000, 200]), replay: 200, now: 1500, lag: 0 },
    {
      name: "an idle writer (same position for a long time) is not lag",
      samples: samples([0, 100], [5000, 100], [10_000, 100]),
      replay: 100,
      now: 10_500,
      lag: 0,
    },
    {
      name: "behind the latest sample only: lag since that sample",
      samples: samples([0, 100], [1000, 200]),
      replay: 150,
      now: 1200,
      lag: 200,
    },
    {
      name: "paused since before the first missed sample: lag since it",
      samples: samples([0, 100], [1000, 200], [2000, 300]),
      replay: 100,
      now: 2500,
      lag: 1500,
    },
    { name: "ahead of every sample (sampled before a write): no lag", samples: samples([0, 100]), replay: 150, now: 100, lag: 0 },
  ];
  for (const row of table) {
    it(row.name, () => assert.equal(lagMs(row.samples, BigInt(row.replay), row.now), row.lag));
  }
});

describe("WAL positions", () => {
  it("parse and format round-trip, and order like the WAL", () => {
    const a = parseLsn("0/16B3748")!;
    const b = parseLsn("1/0")!;
    assert.equal(formatLsn(a), "0/16B3748");
    assert.ok(b > a);
    for (const bad of ["", "16B3748", "0/xyz", "1/2/3", "123456789/0"]) assert.equal(parseLsn(bad), undefined, bad);
  });

  it("write positions: the latest per scope, bounded, forgotten once replayed", () => {
    const positions = new WritePositions(2);
    positions.record(["key:a"], 10n);
    positions.record(["key:b", "team:t"], 20n);
    assert.equal(positions.size, 2, "the oldest scope was evicted");
    assert.equal(positions.get("key:a"), undefined);
    assert.equal(positions.highest(), 20n);
    positions.prune(20n);
    assert.equal(positions.size, 0);
  });
});

describe("is a key missing on the reader really missing?", () => {
  const caughtUp: MissEvidence = { readerUsable: true, replayed: 300n, needed: undefined, writerSettled: 300n, localWrites: undefined };
  const table: Array<{ name: string; evidence: MissEvidence; final: boolean }> = [
    {
      name: "reader unusable: the read ran on the writer, which had the last word",
      evidence: { ...caughtUp, readerUsable: false },
      final: true,
    },
    { name: "replay position not known yet: confirm on the writer", evidence: { ...caughtUp, replayed: undefined }, final: false },
    { name: "the request needed more than the reader had: it ran on the writer", evidence: { ...caughtUp, needed: 400n }, final: true },
    { name: "reader replayed what the writer had an interval ago and nothing of ours is pending", evidence: caughtUp, final: true },
    { name: "no writer sample yet (writer never reached)", evidence: { ...caughtUp, writerSettled: undefined }, final: true },
    { name: "reader more than an interval behind the writer: confirm", evidence: { ...caughtUp, writerSettled: 301n }, final: false },
    { name: "this pod wrote something the reader has not replayed: confirm", evidence: { ...caughtUp, localWrites: 350n }, final: false },
    { name: "this pod's writes are replayed", evidence: { ...caughtUp, localWrites: 300n }, final: true },
  ];
  for (const row of table) it(row.name, () => assert.equal(readerMissIsFinal(row.evidence), row.final));
});

describe("the writer position a reader has had an interval to replay", () => {
  const monitor = (lsns: bigint[]) => {
    let i = 0;
    const writer = { probe: async () => ({ lsn: formatLsn(lsns[i++] ?? 0n) }), description: "writer" } as unknown as Endpoint;
    return new HealthMonitor(
      writer,
      ReaderSet.of([], captureLogs().logger),
      { addresses: [], refresh: async () => undefined },
      {
        intervalMs: 1000,
        maxLagMs: 10_000,
        probeTimeoutMs: 1000,
        log: captureLogs().logger,
      },
    );
  };
  it("is the previous cycle's sample, or the only one", async () => {
    const health = monitor([100n, 200n, 300n]);
    assert.equal(health.settledWriterPosition, undefined);
    await health.checkWriter();
    assert.equal(health.settledWriterPosition, 100n);
    await health.checkWriter();
    assert.equal(health.settledWriterPosition, 100n);
    await health.checkWriter();
    assert.equal(health.settledWriterPosition, 200n);
  });
});

describe("an instance behind a shared address, from probe rounds", () => {
  // One address over two instances; each cycle's round reports who answered (a stand-in for the connections through it).
  const setup = () => {
    const log = captureLogs().logger;
    const readers = ReaderSet.of([stubEndpoint("10.0.0.1:5432"), stubEndpoint("10.0.0.2:5432")], log);
    const [a, b] = readers.members as [ReaderMember, ReaderMember];
    for (const m of [a, b]) m.replay = 100n;
    let answering = [a, b];
    const sample = { identity: { id: "" }, standby: true, replay: 100n };
    const address = {
      name: "pg-ro:5432",
      state: new ReaderState(true, log),
      get members() {
        return [a, b];
      },
      round: async () => ({
        seen: answering.map((member) => ({ member, sample, roundTripMs: 0.5 })),
        unseen: [a, b].filter((m) => !answering.includes(m)),
      }),
      forgetGone: () => undefined,
    } as unknown as ReaderAddress;
    const writer = { probe: async () => ({ lsn: "0/64" }), description: "writer" } as unknown as Endpoint;
    const health = new HealthMonitor(
      writer,
      readers,
      { addresses: [address], refresh: async () => undefined },
      {
        intervalMs: 1000,
        maxLagMs: 10_000,
        probeTimeoutMs: 1000,
        log,
      },
    );
    return { health, a, b, answer: (...members: ReaderMember[]) => void (answering = members) };
  };

  it("missed by one round (a balancer at random): still usable, its lag measured from where it was", async () => {
    const { health, b, answer } = setup();
    answer(health.readers.members[0]!);
    await health.runCycle();
    assert.equal(b.state.status, "connected");
    assert.equal(b.missedRounds, 1);
  });

  it("missed by two rounds in a row while the address answers (hung, or out of the Service): degraded", async () => {
    const { health, a, b, answer } = setup();
    answer(a);
    await health.runCycle();
    await health.runCycle();
    assert.equal(b.state.status, "degraded");
    assert.equal(a.state.status, "connected");
  });

  it("reached again: usable, and its count of missed rounds starts over", async () => {
    const { health, a, b, answer } = setup();
    answer(a);
    await health.runCycle();
    await health.runCycle();
    answer(a, b);
    await health.runCycle();
    assert.deepEqual([b.state.status, b.missedRounds], ["connected", 0]);
  });
});
