// A pod's own count: what it enforces alone (one pod, or its share of a fleet
// whose Redis does not answer) and what it keeps count of while the fleet admits.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../errors.js";
import { BudgetReservations, type BudgetScope } from "../billing/budget-reservations.js";
import { CostEstimates } from "../billing/cost-estimates.js";
import { LocalAdmissions } from "./admission.js";
import { partOf, RateLimits, type LimitScope } from "./rate-limits.js";

const key = (limits: Partial<Pick<LimitScope, "rpm" | "tpm" | "maxParallel">>): LimitScope => ({
  kind: "key",
  id: "k",
  rpm: null,
  tpm: null,
  maxParallel: null,
  ...limits,
});
const budget = (maxBudget: number, spent = 0): BudgetScope => ({ kind: "key", id: "k", maxBudget, spent, mirrored: 0, readAt: { at: 0 } });

function admissions(estimate?: number) {
  const estimates = new CostEstimates();
  if (estimate !== undefined) estimates.observe("k|m", estimate);
  return new LocalAdmissions(new RateLimits(), new BudgetReservations(estimates));
}
const status = (error: unknown) => (error instanceof ApiError ? `${error.status} ${error.type}` : String(error));

async function admitted(
  a: LocalAdmissions,
  request: Parameters<LocalAdmissions["admit"]>[0],
  count: Parameters<LocalAdmissions["admit"]>[1],
  n: number,
) {
  let served = 0;
  for (let i = 0; i < n; i++) {
    try {
      (await a.admit(request, count)).done(0);
      served++;
    } catch {
      // refused
    }
  }
  return served;
}

describe("a pod's share of a limit", () => {
  for (const [limit, pods, share] of [
    [30, 3, 10],
    [30, 1, 30],
    [2, 3, 1],
    [10, 4, 3],
    [1, 5, 1],
  ] as const)
    it(`${limit} over ${pods} pods: ${share} each (rounded up: no pod is refused everything)`, () => {
      assert.equal(partOf(limit, pods), share);
    });
});

describe("local admissions", () => {
  it("alone with a share of 3, rpm_limit 30 admits 10", async () => {
    assert.equal(await admitted(admissions(), { limits: [key({ rpm: 30 })], budgets: [], costKey: "k|m" }, { share: 3 }, 30), 10);
  });

  it("requests the fleet admitted count toward the pod's share: 6 recorded, then 4 more alone at a share of 10", async () => {
    const a = admissions();
    const request = { limits: [key({ rpm: 30 })], budgets: [], costKey: "k|m" };
    for (let i = 0; i < 6; i++) a.record(request).done(0);
    assert.equal(await admitted(a, request, { share: 3 }, 10), 4);
  });

  it("recording never refuses, even past the limit (the fleet decided), and counts toward the pod's own", async () => {
    const a = admissions();
    const request = { limits: [key({ rpm: 1, maxParallel: 1 })], budgets: [], costKey: "k|m" };
    for (let i = 0; i < 5; i++) a.record(request).done(0);
    assert.equal(await admitted(a, request, {}, 1), 0);
  });

  it("max_parallel_requests 4 over 2 pods: 2 in flight on this pod, the third refused", async () => {
    const a = admissions();
    const request = { limits: [key({ maxParallel: 4 })], budgets: [], costKey: "k|m" };
    await a.admit(request, { share: 2 });
    await a.admit(request, { share: 2 });
    await assert.rejects(a.admit(request, { share: 2 }), (e) => status(e) === "429 rate_limit_error" || /max_parallel/.test(String(e)));
  });

  it("a budget's remaining 1.0 over 2 pods at 0.2 a request: this pod holds at most 0.5 — 2 in flight, the third waits (429 budget_reserved)", async () => {
    const a = admissions(0.2);
    const request = { limits: [], budgets: [budget(1)], costKey: "k|m" };
    await a.admit(request, { share: 2 });
    await a.admit(request, { share: 2 });
    await assert.rejects(a.admit(request, { share: 2 }), (e) => status(e) === "429 budget_reserved");
  });

  it("a spent budget is refused (400) alone, whatever the share", async () => {
    await assert.rejects(admissions(0.1).admit({ limits: [], budgets: [budget(1, 1)], costKey: "k|m" }, { share: 3 }), (e) =>
      status(e).startsWith("400"),
    );
  });

  it("a budget refusal counts nothing against rpm: a waiting request retried does not use up the minute", async () => {
    const a = admissions(0.6);
    const request = { limits: [key({ rpm: 2 })], budgets: [budget(1)], costKey: "k|m" };
    const first = await a.admit(request);
    for (let i = 0; i < 5; i++) await assert.rejects(a.admit(request), (e) => status(e) === "429 budget_reserved");
    first.done(0);
    (await a.admit(request)).done(0);
  });
});
