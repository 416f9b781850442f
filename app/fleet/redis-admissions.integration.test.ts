// The fleet's admission script on a real redis-server: requests alike in
// every argument arrive together (one hot key under load) and are admitted as
// one group, in closed form; each limit still admits exactly its room, and a
// refusal names the limit and counts nothing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { ApiError } from "../services/errors.js";
import type { BudgetScope } from "../services/billing/budget-reservations.js";
import { CostEstimates } from "../services/billing/cost-estimates.js";
import type { AdmissionRequest, Ticket } from "../services/access/admission.js";
import type { LimitScope } from "../services/access/rate-limits.js";
import { captureLogs } from "../test-support/logs.js";
import { commandCalls, startRedis, type RedisServer } from "../test-support/redis.js";
import { FleetOutbox } from "./fleet-outbox.js";
import { RedisAdmissions } from "./redis-admissions.js";
import { RedisLink } from "./redis-link.js";

let serial = 0;
const key = (limits: Partial<Pick<LimitScope, "rpm" | "tpm" | "maxParallel">>): LimitScope => ({
  kind: "key",
  id: `k${++serial}`,
  rpm: null,
  tpm: null,
  maxParallel: null,
  ...limits,
});
const budgetOf = (scope: LimitScope, maxBudget: number, spent = 0): BudgetScope => ({
  kind: "key",
  id: scope.id,
  maxBudget,
  spent,
  mirrored: 0,
  readAt: { at: Date.now() },
});

describe("the fleet's admission script", () => {
  let redis: RedisServer;
  let link: RedisLink;
  let outbox: FleetOutbox;
  let admissions: RedisAdmissions;
  const estimates = new CostEstimates();

  before(async () => {
    redis = await startRedis();
    const url = new URL(redis.url);
    link = new RedisLink(
      { host: url.hostname, port: Number(url.port), tls: false, db: 0, name: `${url.hostname}:${url.port}` },
      { log: captureLogs().logger, commandTimeoutMs: 2000 },
    );
    await link.start();
    outbox = new FleetOutbox(link, "pod-a");
    admissions = new RedisAdmissions(link, outbox, estimates);
  });
  after(async () => {
    await link?.close();
    await redis?.stop();
  });

  /** `n` admissions in the same turn (one call, one group); the outcomes in order. */
  async function together(request: AdmissionRequest, n: number): Promise<Array<Ticket | string>> {
    const outcomes = await Promise.allSettled(Array.from({ length: n }, () => admissions.admit(request)));
    return outcomes.map((o) =>
      o.status === "fulfilled" ? o.value : o.reason instanceof ApiError ? `${o.reason.status} ${o.reason.message}` : String(o.reason),
    );
  }
  const admitted = (outcomes: Array<Ticket | string>) => outcomes.filter((o) => typeof o !== "string") as Ticket[];
  const refusals = (outcomes: Array<Ticket | string>) => outcomes.filter((o): o is string => typeof o === "string");

  it("10 alike at rpm_limit 3: the first 3 admitted, 7 refused naming rpm_limit 3", async () => {
    const outcomes = await together({ limits: [key({ rpm: 3 })], budgets: [], costKey: "a" }, 10);
    assert.equal(admitted(outcomes).length, 3);
    assert.ok(outcomes.slice(0, 3).every((o) => typeof o !== "string"));
    assert.ok(
      refusals(outcomes).every((r) => r.startsWith("429") && r.includes("rpm_limit 3")),
      refusals(outcomes)[0],
    );
  });

  it("10 alike at max_parallel_requests 4: 4 in flight; two done, two more admitted", async () => {
    const request = { limits: [key({ maxParallel: 4 })], budgets: [], costKey: "b" };
    const first = await together(request, 10);
    assert.equal(admitted(first).length, 4);
    assert.ok(
      refusals(first).every((r) => r.includes("max_parallel_requests 4 (4 in flight)")),
      refusals(first)[0],
    );
    admitted(first)[0]!.done(0);
    admitted(first)[1]!.done(0);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(admitted(await together(request, 5)).length, 2);
  });

  it("a refusal counts nothing: the team's rpm_limit refuses the key's requests, whose own rpm_limit 2 is left whole", async () => {
    const team: LimitScope = { ...key({ rpm: 1 }), kind: "team" };
    const k = key({ rpm: 2 });
    assert.equal(admitted(await together({ limits: [key({}), team], budgets: [], costKey: "c" }, 1)).length, 1);
    const refused = await together({ limits: [k, team], budgets: [], costKey: "c" }, 3);
    assert.equal(admitted(refused).length, 0);
    assert.ok(
      refusals(refused).every((r) => r.includes(`team ${team.id}`) && r.includes("rpm_limit 1")),
      refusals(refused)[0],
    );
    assert.equal(admitted(await together({ limits: [k], budgets: [], costKey: "c" }, 3)).length, 2);
  });

  it("a budget of 1.00 at an estimate of 0.30: 3 alike admitted (0.90 held, 0.10 left), the rest wait (429)", async () => {
    estimates.observe("d", 0.3);
    const scope = key({});
    const outcomes = await together({ limits: [], budgets: [budgetOf(scope, 1)], costKey: "d" }, 8);
    // Nothing held: admitted; then each needs 0.30 ≤ 1.00 − held: at 0.30 and 0.60 held, yes; at 0.90, no.
    assert.equal(admitted(outcomes).length, 3);
    assert.ok(
      refusals(outcomes).every((r) => r.startsWith("429") && r.includes("reserved")),
      refusals(outcomes)[0],
    );
  });

  it("a budget with no estimate yet: one request at a time holds all that is left", async () => {
    const scope = key({});
    const request = { limits: [], budgets: [budgetOf(scope, 1)], costKey: `no-estimate-${serial}` };
    const outcomes = await together(request, 5);
    assert.equal(admitted(outcomes).length, 1);
    admitted(outcomes)[0]!.done(0);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(admitted(await together(request, 5)).length, 1);
  });

  it("a spent budget is refused (400), alike requests or not", async () => {
    const scope = key({});
    const outcomes = await together({ limits: [], budgets: [budgetOf(scope, 1, 1)], costKey: "e" }, 3);
    assert.equal(admitted(outcomes).length, 0);
    assert.ok(
      refusals(outcomes).every((r) => r.startsWith("400")),
      refusals(outcomes)[0],
    );
  });

  it("one call for the whole group: Redis runs one script for 50 alike requests", async () => {
    const watcher = new Redis(redis.url);
    await watcher.config("RESETSTAT");
    await together({ limits: [key({ rpm: 1000, maxParallel: 1000 })], budgets: [], costKey: "f" }, 50);
    const calls = await commandCalls(watcher);
    watcher.disconnect();
    assert.equal((calls.get("evalsha") ?? 0) + (calls.get("eval") ?? 0), 1, JSON.stringify([...calls]));
  });
});
