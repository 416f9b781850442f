// Who may use which model, and what a request's budgets and limits are, for a key with its team and user.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { allowedModels, budgetScopes, checkAccess, endUserBudgetScopes, endUserLimitScopes, limitScopes, resolveModel } from "./access.js";
import type { EndUserRecord } from "./end-users.js";
import type { Caller, KeyCaller } from "./auth.js";
import { ApiError } from "../errors.js";
import { globMatch } from "../glob.js";

const catalog = { has: (m: string) => ["a", "b", "c"].includes(m), modelNames: () => ["a", "b", "c"] };
const limits = { max_budget: null, spend: 0, budget_reset_at: null, rpm_limit: null, tpm_limit: null, max_parallel_requests: null };

function caller(over: { key?: object; team?: object | null; user?: object | null } = {}): KeyCaller {
  const team = over.team === null || over.team === undefined ? null : { team_id: "t", models: [], ...limits, ...over.team };
  const user = over.user === null || over.user === undefined ? null : { user_id: "u", models: [], ...limits, ...over.user };
  return {
    kind: "key",
    key: { token: "k", models: [], aliases: {}, team_id: team ? "t" : null, user_id: user ? "u" : null, team, ...limits, ...over.key },
    user,
  } as unknown as KeyCaller;
}
const master: Caller = { kind: "master" };

describe("access: models", () => {
  const cases: Array<[string, KeyCaller | Caller, string[]]> = [
    ["the master key: every model", master, ["a", "b", "c"]],
    ["empty lists allow every model", caller(), ["a", "b", "c"]],
    ["the key's list", caller({ key: { models: ["a", "b"] } }), ["a", "b"]],
    ["key and team lists both apply", caller({ key: { models: ["a", "b"] }, team: { models: ["b", "c"] } }), ["b"]],
    ["the user's list applies too", caller({ user: { models: ["c"] } }), ["c"]],
    ["* on a key allows every model (LiteLLM's wildcard)", caller({ key: { models: ["*"] } }), ["a", "b", "c"]],
    [
      "all-team-models on a key defers to the team's list",
      caller({ key: { models: ["all-team-models"] }, team: { models: ["b"] } }),
      ["b"],
    ],
    ["a prefix wildcard allows the names under it", caller({ key: { models: ["c", "a*"] } }), ["a", "c"]],
  ];
  for (const [what, who, allowed] of cases) {
    it(`${what} → ${allowed.join(", ")}`, () => {
      assert.deepEqual(allowedModels(who, catalog), allowed);
      for (const m of ["a", "b", "c"]) {
        if (allowed.includes(m)) checkAccess(who, m, catalog);
        else
          assert.throws(
            () => checkAccess(who, m, catalog),
            (e: unknown) => e instanceof ApiError && e.status === 401 && e.param === "model",
          );
      }
    });
  }

  it("the denial names the entity whose list refused it (LiteLLM's *_model_access_denied)", () => {
    for (const [who, type] of [
      [caller({ key: { models: ["b"] } }), "key_model_access_denied"],
      [caller({ team: { models: ["b"] } }), "team_model_access_denied"],
      [caller({ user: { models: ["b"] } }), "user_model_access_denied"],
    ] as const)
      assert.throws(
        () => checkAccess(who, "a", catalog),
        (e: unknown) => e instanceof ApiError && e.type === type,
      );
  });

  describe("access groups and teams' own models (models kept in the database)", () => {
    // a and b are in access group "beta"; c is team t2's own model.
    const grouped = {
      ...catalog,
      accessGroupsOf: (m: string) => (m === "a" || m === "b" ? ["beta"] : []),
      ownerTeam: (m: string) => (m === "c" ? "t2" : undefined),
    };
    const cases: Array<[string, KeyCaller | Caller, string[]]> = [
      ["an access group on a key allows its models", caller({ key: { models: ["beta"] } }), ["a", "b"]],
      ["an access group on a team allows its models", caller({ team: { models: ["beta"] } }), ["a", "b"]],
      ["a team's own model is refused to other teams' keys, even with an empty list", caller({ team: {} }), ["a", "b"]],
      ["…and to keys without a team", caller(), ["a", "b"]],
      ["it is allowed to its team's keys", caller({ team: { team_id: "t2" } }), ["a", "b", "c"]],
      ["the master key may use every model", master, ["a", "b", "c"]],
    ];
    for (const [what, who, allowed] of cases)
      it(`${what} → ${allowed.join(", ")}`, () => {
        assert.deepEqual(allowedModels(who, grouped), allowed);
        for (const m of ["a", "b", "c"])
          if (allowed.includes(m)) checkAccess(who, m, grouped);
          else
            assert.throws(
              () => checkAccess(who, m, grouped),
              (e: unknown) => e instanceof ApiError && e.status === 401,
            );
      });
  });

  it("an unknown model is a 400 naming the field, for every caller", () => {
    assert.throws(
      () => checkAccess(master, "zzz", catalog),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === "model",
    );
  });

  it("a key's aliases map a requested name to a configured model", () => {
    assert.equal(resolveModel(caller({ key: { aliases: { "gpt-4": "a" } } }), "gpt-4"), "a");
    assert.equal(resolveModel(caller(), "gpt-4"), "gpt-4");
    assert.equal(resolveModel(master, "gpt-4"), "gpt-4");
  });

  it("the team's model_aliases apply to its keys; the key's own aliases win", () => {
    const who = caller({ key: { aliases: { x: "a" } }, team: { model_aliases: { x: "b", y: "c" } } });
    assert.deepEqual([resolveModel(who, "x"), resolveModel(who, "y")], ["a", "c"]);
  });
});

describe("access: budgets and limits", () => {
  const unwritten = (scope: string, snapshot?: { at: number }) => ({
    all: (snapshot ? 0.5 : 1) * (scope.startsWith("key") ? 2 : 1),
    mirrored: scope.startsWith("key") ? 0.25 : 0,
  });

  it("each scope with a max_budget is checked: spend read + this pod's unwritten spend", () => {
    const who = caller({ key: { max_budget: 10, spend: 3 }, team: { max_budget: 100, spend: 50 }, user: { spend: 1 } });
    assert.deepEqual(
      budgetScopes(who, unwritten).map((s) => [s.kind, s.maxBudget, s.spent]),
      [
        ["key", 10, 5],
        ["team", 100, 51],
      ],
    );
  });

  it("the user's budget within the key's team is a scope of its own (member:<team>:<user>)", () => {
    const who = { ...caller({ team: {}, user: {} }), membership: { team_id: "t", user_id: "u", spend: 2, max_budget: 3 } } as KeyCaller;
    assert.deepEqual(
      budgetScopes(who, unwritten).map((s) => [s.kind, s.id, s.maxBudget, s.spent]),
      [["member", "t:u", 3, 3]],
    );
  });

  it("the key's team's organization budget is a scope of its own, over the organization's spend and its budget's period", () => {
    const organization = (budget: object | null) => ({ organization_id: "o", spend: 4, budget_id: "b", budget });
    const cases: Array<[string, object | null, unknown[]]> = [
      ["a max_budget", { max_budget: 5, budget_reset_at: null }, [["organization", "o", 5, 5]]],
      ["no max_budget", { max_budget: null, budget_reset_at: null }, []],
      ["no budget (deleted)", null, []],
      ["an ended period: only this pod's spend since", { max_budget: 5, budget_reset_at: new Date(1000) }, [["organization", "o", 5, 0.5]]],
    ];
    for (const [name, budget, expected] of cases) {
      const who = caller({ team: { organization_id: "o", organization: organization(budget) } });
      assert.deepEqual(
        budgetScopes(who, unwritten, 2000).map((s) => [s.kind, s.id, s.maxBudget, s.spent]),
        expected,
        name,
      );
    }
  });

  it("each scope carries when its spend was read and the part of this pod's spend the fleet's ledger holds", () => {
    const who = caller({ key: { max_budget: 10, spend: 3 } });
    const [scope] = budgetScopes(who, unwritten, 5000);
    assert.deepEqual([scope?.mirrored, scope?.readAt], [0.25, { at: 5000 }]);
  });

  it("a period that has ended counts only this pod's spend since its end", () => {
    const ended = new Date(1000);
    const who = caller({ key: { max_budget: 10, spend: 9, budget_reset_at: ended } });
    assert.deepEqual(
      budgetScopes(who, unwritten, 2000).map((s) => s.spent),
      [1],
    );
  });

  it("the master key has no budgets and no limits", () => {
    assert.deepEqual([budgetScopes(master, unwritten), limitScopes(master)], [[], []]);
  });

  it("rate limits come from the key, its team and its user", () => {
    const who = caller({ key: { rpm_limit: 5 }, team: { tpm_limit: 100 }, user: { max_parallel_requests: 2 } });
    assert.deepEqual(
      limitScopes(who).map((s) => [s.kind, s.rpm, s.tpm, s.maxParallel]),
      [
        ["key", 5, null, null],
        ["team", null, 100, null],
        ["user", null, null, 2],
      ],
    );
  });

  describe("a key on a budget tier (budget_id): the tier's limits where the key sets none", () => {
    const tier = { max_budget: 5, rpm_limit: 10, tpm_limit: 1000, max_parallel_requests: 3, budget_reset_at: null };
    const cases: Array<[string, object, unknown[], unknown[]]> = [
      ["the key sets nothing: all the tier's", {}, [5, 5], [10, 1000, 3]],
      ["the key's own limits win", { max_budget: 20, rpm_limit: 2 }, [20, 5], [2, 1000, 3]],
      ["a tier without limits adds none", { budget: { ...limits } }, [], [null, null, null]],
      ["a deleted tier (budget null) leaves the key's own", { budget: null, rpm_limit: 7 }, [], [7, null, null]],
    ];
    for (const [name, key, budget, rates] of cases)
      it(name, () => {
        const who = caller({ key: { spend: 3, budget_id: "tier", budget: tier, ...key } });
        assert.deepEqual(
          budgetScopes(who, unwritten, 2000).flatMap((s) => [s.maxBudget, s.spent]),
          budget,
        );
        const [scope] = limitScopes(who);
        assert.deepEqual([scope?.rpm, scope?.tpm, scope?.maxParallel], rates);
      });

    it("without a budget_duration of its own the key's spend runs in the tier's period; with one, in its own", () => {
      const tierEnded = { ...tier, budget_reset_at: new Date(1000) };
      const onTier = caller({ key: { spend: 3, budget: tierEnded } });
      const ownPeriod = caller({ key: { spend: 3, budget: tierEnded, budget_duration: "30d", budget_reset_at: new Date(9000) } });
      const ownOneTime = caller({ key: { spend: 3, max_budget: 50, budget: tierEnded } });
      assert.deepEqual(
        [onTier, ownPeriod, ownOneTime].map((who) => budgetScopes(who, unwritten, 2000)[0]?.spent),
        [1, 5, 5],
        "a key's own max_budget without a duration is one-time: the tier's period does not reset it",
      );
    });
  });
});

describe("model-name wildcards", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["*", "anything", "anything"],
    ["anthropic/*", "anthropic/claude-3", "claude-3"],
    ["anthropic/*", "openai/gpt-4o", undefined],
    ["gpt-*-mini", "gpt-4o-mini", "4o"],
    ["gpt-*-mini", "gpt-4o", undefined],
    ["a*b*c", "axxbyyc", "xx"],
    ["a*b*c", "axxc", undefined],
    ["exact", "exact", ""],
  ];
  for (const [pattern, text, matched] of cases)
    it(`${pattern} ~ ${text} → ${String(matched)}`, () => assert.equal(globMatch(pattern, text), matched));

  // A backtracking matcher would take about 10^11 steps here: this test would not end.
  it("a pattern of many stars against a long name is decided without backtracking", { timeout: 60_000 }, () => {
    assert.equal(globMatch(`${"*".repeat(40)}!`, "a".repeat(10_000)), undefined);
  });
});

describe("access: an end user's budget and limits", () => {
  const none = () => ({ all: 0, mirrored: 0 });
  const budgetRow = { max_budget: null, rpm_limit: null, tpm_limit: null, max_parallel_requests: null, budget_reset_at: null };
  const endUser = (spend: number, budget: object | null) =>
    ({
      user_id: "eu",
      spend,
      blocked: false,
      budget_id: budget ? "b" : null,
      budget: budget && { ...budgetRow, ...budget },
      snapshot: { at: 0 },
    }) as unknown as EndUserRecord;
  const now = Date.parse("2026-12-07T12:00:00Z");
  const cases: Array<
    [
      string,
      EndUserRecord | null,
      Array<{ kind: string; maxBudget: number; spent: number }>,
      Array<{ rpm: number | null; tpm: number | null }>,
    ]
  > = [
    ["no end user named: nothing", null, [], []],
    ["an end user without a budget: nothing", endUser(3, null), [], []],
    ["a budget with max_budget: its spend against it", endUser(3, { max_budget: 5 }), [{ kind: "end_user", maxBudget: 5, spent: 3 }], []],
    [
      "a budget whose period ended: spend counts from 0",
      endUser(3, { max_budget: 5, budget_reset_at: new Date(now - 1000) }),
      [{ kind: "end_user", maxBudget: 5, spent: 0 }],
      [],
    ],
    ["rpm and tpm only: limits, no budget", endUser(3, { rpm_limit: 2, tpm_limit: 50 }), [], [{ rpm: 2, tpm: 50 }]],
  ];
  for (const [what, who, budgets, rates] of cases) {
    it(what, () => {
      assert.deepEqual(
        endUserBudgetScopes(who, none, now).map(({ kind, maxBudget, spent }) => ({ kind, maxBudget, spent })),
        budgets,
      );
      assert.deepEqual(
        endUserLimitScopes(who).map(({ rpm, tpm }) => ({ rpm, tpm })),
        rates,
      );
    });
  }
});
