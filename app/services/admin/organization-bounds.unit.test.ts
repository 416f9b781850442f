// A team inside an organization stays within the organization's budget, limits and models
// (LiteLLM's checks on /team/new and /team/update).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Budget } from "../../generated/prisma/client.js";
import { ApiError } from "../errors.js";
import { checkTeamWithin, type TeamBounds } from "./organization-bounds.js";

const budget = (limits: Partial<Pick<Budget, "max_budget" | "tpm_limit" | "rpm_limit">>): Budget => ({
  budget_id: "b",
  max_budget: null,
  soft_budget: null,
  max_parallel_requests: null,
  tpm_limit: null,
  rpm_limit: null,
  model_max_budget: null,
  budget_duration: null,
  budget_reset_at: null,
  created_at: new Date(0),
  created_by: "admin",
  updated_at: new Date(0),
  updated_by: "admin",
  ...limits,
});

describe("a team within its organization", () => {
  const org = (models: string[], limits: Parameters<typeof budget>[0] = {}, withBudget = true) => ({
    organization_id: "org-1",
    models,
    budget: withBudget ? budget(limits) : null,
  });
  const cases: Array<[string, TeamBounds, ReturnType<typeof org>, string | null]> = [
    ["no limits anywhere", {}, org([]), null],
    ["a budget under the organization's", { max_budget: 5 }, org([], { max_budget: 10 }), null],
    ["a budget equal to the organization's", { max_budget: 10 }, org([], { max_budget: 10 }), null],
    ["a budget over the organization's", { max_budget: 11 }, org([], { max_budget: 10 }), "max_budget"],
    ["any budget when the organization has none", { max_budget: 1e6 }, org([], {}), null],
    ["any budget when the organization's budget was deleted", { max_budget: 1e6 }, org([], {}, false), null],
    ["tpm over the organization's", { tpm_limit: 2000 }, org([], { tpm_limit: 1000 }), "tpm_limit"],
    ["rpm over the organization's", { rpm_limit: 61 }, org([], { rpm_limit: 60 }), "rpm_limit"],
    ["models among the organization's", { models: ["gpt-4o"] }, org(["gpt-4o", "claude"]), null],
    ["a model outside the organization's", { models: ["gpt-4o", "o3"] }, org(["gpt-4o"]), "models"],
    ["any model when the organization lists none", { models: ["o3"] }, org([]), null],
    ["any model when the organization has all-proxy-models", { models: ["o3"] }, org(["all-proxy-models"]), null],
    ["no model list (as LiteLLM, not refused)", { models: [] }, org(["gpt-4o"]), null],
  ];
  for (const [name, team, organization, field] of cases) {
    it(`${name} → ${field ? `400 naming ${field}` : "accepted"}`, () => {
      if (field === null) return assert.doesNotThrow(() => checkTeamWithin(team, organization));
      assert.throws(
        () => checkTeamWithin(team, organization),
        (error: unknown) =>
          error instanceof ApiError && error.status === 400 && error.param === field && /Organization: org-1/.test(error.message),
      );
    });
  }
});
