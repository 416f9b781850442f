// The reader's state machine: every transition, and what is logged once.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ReaderState, type ReaderStatus } from "./reader-state.js";
import { captureLogs } from "../test-support/logs.js";

type Step = { degrade: string } | { reachable: number };
const MAX_LAG = 5000;

function run(start: "enabled" | "disabled", steps: Step[]) {
  const logs = captureLogs("info");
  const changes: Array<[ReaderStatus, ReaderStatus]> = [];
  const state = new ReaderState(start === "enabled", logs.logger, { onChange: (s, p) => changes.push([s, p]) });
  for (const step of steps) {
    if ("degrade" in step) state.markDegraded(new Error(step.degrade), "health-check");
    else state.markReachable(step.reachable, MAX_LAG);
  }
  return { state, changes, logs };
}

describe("reader state transitions", () => {
  const table: Array<{
    name: string;
    start: "enabled" | "disabled";
    steps: Step[];
    status: ReaderStatus;
    usable: boolean;
    changes: number;
  }> = [
    { name: "starts connected when configured", start: "enabled", steps: [], status: "connected", usable: true, changes: 0 },
    {
      name: "disabled stays disabled whatever happens",
      start: "disabled",
      steps: [{ degrade: "x" }, { reachable: 0 }],
      status: "disabled",
      usable: false,
      changes: 0,
    },
    { name: "connected → degraded on failure", start: "enabled", steps: [{ degrade: "x" }], status: "degraded", usable: false, changes: 1 },
    {
      name: "degraded twice is one change",
      start: "enabled",
      steps: [{ degrade: "x" }, { degrade: "y" }],
      status: "degraded",
      usable: false,
      changes: 1,
    },
    {
      name: "degraded → connected when reachable and caught up",
      start: "enabled",
      steps: [{ degrade: "x" }, { reachable: 10 }],
      status: "connected",
      usable: true,
      changes: 2,
    },
    {
      name: "degraded → lagging when reachable but behind",
      start: "enabled",
      steps: [{ degrade: "x" }, { reachable: 6000 }],
      status: "lagging",
      usable: false,
      changes: 2,
    },
    {
      name: "connected → lagging past the bound",
      start: "enabled",
      steps: [{ reachable: 5001 }],
      status: "lagging",
      usable: false,
      changes: 1,
    },
    {
      name: "exactly at the bound is still connected",
      start: "enabled",
      steps: [{ reachable: 5000 }],
      status: "connected",
      usable: true,
      changes: 0,
    },
    {
      name: "lagging → connected once caught up",
      start: "enabled",
      steps: [{ reachable: 9000 }, { reachable: 0 }],
      status: "connected",
      usable: true,
      changes: 2,
    },
    {
      name: "lagging → degraded on failure",
      start: "enabled",
      steps: [{ reachable: 9000 }, { degrade: "x" }],
      status: "degraded",
      usable: false,
      changes: 2,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const { state, changes } = run(row.start, row.steps);
      assert.equal(state.status, row.status);
      assert.equal(state.usable, row.usable);
      assert.equal(changes.length, row.changes);
    });
  }

  it("the start warning is the contract's exact sentence", async () => {
    const logs = captureLogs("info");
    new ReaderState(true, logs.logger).markDegraded(new Error("connect ECONNREFUSED 127.0.0.1:5433"), "start");
    await logs.flush();
    assert.deepEqual(logs.messages(), [
      "Failed to connect to read replica DB: connect ECONNREFUSED 127.0.0.1:5433. Falling back to the writer for reads until the reader is reachable.",
    ]);
  });
});
