// Which reader the next read goes to, and what the set as a whole reports.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../observability/logger.js";
import { stubEndpoint } from "../test-support/stub-endpoint.js";
import { NEVER_BEHIND, ReaderSet } from "./reader-set.js";
import type { ReaderStatus } from "./reader-state.js";

const log = createLogger("silent");

interface MemberSpec {
  /** Probe round trip, ms (locality). */
  rtt?: number;
  status?: ReaderStatus;
  replay?: bigint;
  busy?: boolean;
  outstanding?: number;
}

function set(...specs: MemberSpec[]): ReaderSet {
  const readers = ReaderSet.of(
    specs.map((spec, i) => stubEndpoint(`r${i}:5432`, () => spec.busy ?? false)),
    log,
  );
  specs.forEach((spec, i) => {
    const member = readers.members[i]!;
    member.replay = spec.replay ?? 100n;
    member.outstanding = spec.outstanding ?? 0;
    if (spec.rtt !== undefined) member.noteRoundTrip(spec.rtt);
    if (spec.status === "degraded") member.state.markDegraded(new Error("down"), "health-check");
    if (spec.status === "lagging") member.state.markReachable(10_000, 5000);
  });
  return readers;
}

const pick = (readers: ReaderSet, needed?: bigint) => {
  const choice = readers.choose(needed);
  return "member" in choice ? choice.member.name : choice.reason;
};

describe("reader set: where the next read goes", () => {
  const table: Array<{ name: string; members: MemberSpec[]; needed?: bigint; answer: string }> = [
    { name: "the one usable reader", members: [{}], answer: "r0:5432" },
    { name: "a degraded reader is skipped for a usable one", members: [{ status: "degraded" }, {}], answer: "r1:5432" },
    { name: "a lagging reader is skipped for a usable one", members: [{ status: "lagging" }, {}], answer: "r1:5432" },
    { name: "a saturated reader is skipped for one with room", members: [{ busy: true }, {}], answer: "r1:5432" },
    { name: "the reader with fewer reads in flight", members: [{ outstanding: 3 }, { outstanding: 1 }], answer: "r1:5432" },
    {
      name: "a reader behind what the read needs is skipped",
      members: [{ replay: 90n }, { replay: 120n }],
      needed: 110n,
      answer: "r1:5432",
    },
    {
      name: "a promoted reader (not a standby) has everything",
      members: [{ replay: 90n }, { replay: NEVER_BEHIND }],
      needed: 110n,
      answer: "r1:5432",
    },
    {
      name: "none usable, all degraded: the writer, as degraded",
      members: [{ status: "degraded" }, { status: "degraded" }],
      answer: "reader-degraded",
    },
    {
      name: "none usable, one lagging: the writer, as lagging",
      members: [{ status: "degraded" }, { status: "lagging" }],
      answer: "reader-lagging",
    },
    {
      name: "usable but none has replayed the write: read-your-writes",
      members: [{ replay: 90n }, { replay: 95n }],
      needed: 100n,
      answer: "read-your-writes",
    },
    { name: "caught up but all saturated: busy", members: [{ busy: true }, { busy: true }], answer: "reader-busy" },
    { name: "no reader configured: the writer, as degraded", members: [], answer: "reader-degraded" },
  ];
  for (const row of table) it(row.name, () => assert.equal(pick(set(...row.members), row.needed), row.answer));

  it("ties are taken in turn, so idle readers share sequential reads evenly", () => {
    const readers = set({}, {}, {});
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const name = pick(readers);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [100, 100, 100]);
  });

  it("once write positions up to P are forgotten, a reader behind P serves nothing until it catches up", () => {
    const readers = set({ replay: 200n }, { status: "degraded", replay: 50n });
    readers.forgetUpTo(readers.replayed!);
    const comeback = readers.members[1]!;
    comeback.state.markReachable(0, 5000);
    assert.equal(pick(readers), "r0:5432");
    assert.equal(pick(readers), "r0:5432", "the returning reader is below the floor");
    comeback.replay = 200n;
    assert.deepEqual([pick(readers), pick(readers)].sort(), ["r0:5432", "r1:5432"]);
  });

  it("a promoted reader's position never becomes the floor", () => {
    const readers = set({ replay: NEVER_BEHIND });
    readers.forgetUpTo(readers.replayed!);
    const [member] = readers.members;
    member!.replay = 10n;
    assert.equal(pick(readers), "r0:5432");
  });
});

describe("reader set: overall state", () => {
  const table: Array<{ name: string; members: ReaderStatus[]; overall: ReaderStatus }> = [
    { name: "no reader: disabled", members: [], overall: "disabled" },
    { name: "any connected: connected", members: ["degraded", "connected"], overall: "connected" },
    { name: "none connected, one lagging: lagging", members: ["degraded", "lagging"], overall: "lagging" },
    { name: "all degraded: degraded", members: ["degraded", "degraded"], overall: "degraded" },
  ];
  for (const row of table) {
    it(row.name, () => assert.equal(set(...row.members.map((status) => ({ status }))).status, row.overall));
  }

  it("replayed is the lowest position among usable readers (what any read sent anywhere sees)", () => {
    assert.equal(set({ replay: 300n }, { replay: 200n }, { replay: 100n, status: "lagging" }).replayed, 200n);
    assert.equal(set({ status: "degraded" }).replayed, undefined);
  });
});

describe("reader set: a live set of instances", () => {
  it("addresses configured but no instance found yet (unreachable since start): degraded, not disabled", () => {
    const readers = new ReaderSet(log, {}, 1);
    assert.equal(readers.configured, true);
    assert.equal(readers.status, "degraded");
    assert.equal(pick(readers), "reader-degraded");
  });

  it("instances join in their address's order and leave; a departed one gets no read", () => {
    const changes: string[] = [];
    const readers = new ReaderSet(log, { onMembership: (m, change) => changes.push(`${m.name} ${change}`) }, 2);
    const late = readers.add(stubEndpoint("b:5432"), { address: "second-address:5432", rank: 1 });
    readers.add(stubEndpoint("a:5432"), { address: "first-address:5432", rank: 0 });
    assert.deepEqual(
      readers.members.map((m) => m.name),
      ["a:5432", "b:5432"],
    );
    readers.remove(late);
    assert.deepEqual(changes, ["b:5432 joined", "a:5432 joined", "b:5432 left"]);
    for (let i = 0; i < 4; i++) assert.equal(pick(readers), "a:5432");
  });

  it("an instance found in a Service's EndpointSlices is shown with its pod too", () => {
    const readers = new ReaderSet(log, {}, 1);
    const member = readers.add(stubEndpoint("10.244.1.7:5432"), {
      address: "pg-ro:5432",
      label: "pg-replica-7c9f",
      foundBy: "kubernetes",
      rank: 0,
    });
    assert.equal(member.view().pod, "pg-replica-7c9f");
  });

  it("each instance is shown with the address it is reached through, never a URL", () => {
    const readers = new ReaderSet(log, {}, 1);
    const member = readers.add(stubEndpoint("10.0.0.7:5432"), { address: "db-ro:5432", rank: 0 });
    member.lagMs = 12;
    member.noteRoundTrip(0.4);
    assert.deepEqual(member.view(0.4), {
      state: "connected",
      lag_ms: 12,
      rtt_ms: 0.4,
      local: true,
      address: "db-ro:5432",
      found_by: "address",
    });
  });
});

describe("reader set: which instance to ask when none is known to have a write", () => {
  const table: Array<{ name: string; members: MemberSpec[]; needed?: bigint; answer: string | undefined }> = [
    { name: "the furthest replayed", members: [{ replay: 90n }, { replay: 95n }], needed: 100n, answer: "r1:5432" },
    {
      name: "a lagging one is never asked",
      members: [{ replay: 99n, status: "lagging" }, { replay: 90n }],
      needed: 100n,
      answer: "r1:5432",
    },
    { name: "a saturated one is never asked", members: [{ replay: 99n, busy: true }, { replay: 90n }], needed: 100n, answer: "r1:5432" },
    {
      name: "equally far: the one with fewer reads in flight",
      members: [
        { replay: 90n, outstanding: 2 },
        { replay: 90n, outstanding: 0 },
      ],
      needed: 100n,
      answer: "r1:5432",
    },
    { name: "nothing needed: nobody to ask", members: [{ replay: 90n }], answer: undefined },
    { name: "none usable: nobody to ask", members: [{ status: "degraded" }], needed: 100n, answer: undefined },
  ];
  for (const row of table) {
    it(row.name, () => assert.equal(set(...row.members).candidate(row.needed)?.member.name, row.answer));
  }
});

describe("reader set: locality (the closest caught-up instances first)", () => {
  const table: Array<{ name: string; members: MemberSpec[]; needed?: bigint; answers: string[] }> = [
    {
      name: "a replica in another region (40 ms) gets no read while a near one (0.5 ms) can take it",
      members: [{ rtt: 40 }, { rtt: 0.5 }],
      answers: ["r1:5432"],
    },
    { name: "replicas in the same zone or host share the reads", members: [{ rtt: 0.3 }, { rtt: 1.2 }], answers: ["r0:5432", "r1:5432"] },
    { name: "the near one lagging: the far one serves", members: [{ rtt: 40 }, { rtt: 0.5, status: "lagging" }], answers: ["r0:5432"] },
    { name: "the near one degraded: the far one serves", members: [{ rtt: 40 }, { rtt: 0.5, status: "degraded" }], answers: ["r0:5432"] },
    { name: "the near one saturated: reads spill to the far one", members: [{ rtt: 40 }, { rtt: 0.5, busy: true }], answers: ["r0:5432"] },
    {
      name: "the near one lacks the write: the far one that has it",
      members: [
        { rtt: 40, replay: 200n },
        { rtt: 0.5, replay: 100n },
      ],
      needed: 150n,
      answers: ["r0:5432"],
    },
    { name: "not measured yet counts as near", members: [{ rtt: 40 }, {}], answers: ["r0:5432", "r1:5432"] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const readers = set(...row.members);
      const seen = new Set(Array.from({ length: 8 }, () => pick(readers, row.needed)));
      assert.deepEqual([...seen].sort(), row.answers);
    });
  }

  it("the round trip is the shortest of the last ten probes: a busy moment does not make a replica far", () => {
    const readers = set({ rtt: 0.5 }, { rtt: 0.6 });
    readers.members[1]!.noteRoundTrip(80);
    assert.equal(readers.members[1]!.roundTripMs, 0.6);
    for (let i = 0; i < 10; i++) readers.members[1]!.noteRoundTrip(40);
    assert.equal(readers.members[1]!.roundTripMs, 40, "ten probes in a row that far: it is far");
  });
});

describe("reader set: this pod's zone first (DATABASE_READ_REPLICA_ZONE)", () => {
  const zoned = (localZone: string | undefined, ...members: Array<{ zone?: string; rtt?: number; status?: ReaderStatus }>) => {
    const readers = new ReaderSet(log, {}, 1, localZone);
    members.forEach((spec, i) => {
      const member = readers.add(stubEndpoint(`r${i}:5432`), { address: "pg-ro:5432", zone: spec.zone, foundBy: "kubernetes", rank: 0 });
      member.replay = 100n;
      if (spec.rtt !== undefined) member.noteRoundTrip(spec.rtt);
      if (spec.status === "lagging") member.state.markReachable(10_000, 5000);
    });
    return readers;
  };
  const seen = (readers: ReaderSet) => [...new Set(Array.from({ length: 8 }, () => pick(readers)))].sort();

  it("the replicas in this pod's zone get the reads, though another zone's answers as fast", () => {
    assert.deepEqual(seen(zoned("eu-1a", { zone: "eu-1b", rtt: 0.4 }, { zone: "eu-1a", rtt: 0.5 })), ["r1:5432"]);
  });
  it("none usable in this zone: the other zones serve", () => {
    assert.deepEqual(seen(zoned("eu-1a", { zone: "eu-1b" }, { zone: "eu-1a", status: "lagging" })), ["r0:5432"]);
  });
  it("this pod's zone unknown: the round trip decides, as without zones", () => {
    assert.deepEqual(seen(zoned(undefined, { zone: "eu-1b", rtt: 0.4 }, { zone: "eu-1a", rtt: 0.5 })), ["r0:5432", "r1:5432"]);
  });
  it("shown as local by zone when both zones are known", () => {
    const readers = zoned("eu-1a", { zone: "eu-1b", rtt: 0.4 }, { zone: "eu-1a", rtt: 0.5 });
    assert.deepEqual(
      readers.members.map((m) => [readers.view(m).local, readers.view(m).zone]),
      [
        [false, "eu-1b"],
        [true, "eu-1a"],
      ],
    );
  });
});
