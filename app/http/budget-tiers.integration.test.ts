// Budget tiers (LiteLLM's budget_id on a key), through the HTTP API on a real primary/replica pair:
// a key on a budget object takes the budget's limits where it sets none of its own, each key counting
// its own requests and spend; a change to the budget reaches its keys at once; an unknown budget is a
// 400 naming it with no key written.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { eventually, startProxy, type Proxy } from "../test-support/proxy.js";

describe("keys on a budget tier (budget_id)", () => {
  let proxy: Proxy;
  const chat = (apiKey: string) =>
    new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] })
      .then(
        () => ({ status: 200, message: "" }),
        (error: { status?: number; message?: string }) => ({ status: error.status ?? 0, message: error.message ?? "" }),
      );
  const statuses = async (apiKey: string, n: number) => {
    const seen = [];
    for (let i = 0; i < n; i++) seen.push((await chat(apiKey)).status);
    return seen;
  };
  const newKey = async (body: Record<string, unknown>) => {
    const made = await proxy.admin("/key/generate", { body });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    return made.json;
  };

  before(async () => {
    proxy = await startProxy({});
  });
  after(async () => {
    await proxy?.stop();
  });

  it("/key/generate with a budget_id answers with the tier as litellm_budget_table, and /key/info shows it", async () => {
    await proxy.admin("/budget/new", { body: { budget_id: "tier-shape", rpm_limit: 5, max_budget: 3 } });
    const made = await newKey({ budget_id: "tier-shape" });
    assert.equal(made.budget_id, "tier-shape");
    assert.deepEqual(
      [(made.litellm_budget_table as { budget_id: string }).budget_id, (made.litellm_budget_table as { rpm_limit: number }).rpm_limit],
      ["tier-shape", 5],
    );
    const info = await proxy.admin(`/key/info?key=${made.key as string}`);
    const shown = info.json.info as { budget_id: string; litellm_budget_table: { max_budget: number } };
    assert.deepEqual([shown.budget_id, shown.litellm_budget_table.max_budget], ["tier-shape", 3]);
  });

  it("an unknown budget_id is a 400 naming it, on generate and update, and writes nothing", async () => {
    const refused = await proxy.admin("/key/generate", { body: { budget_id: "no-such-tier", key_alias: "tierless" } });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.json), /budget_id/);
    const listed = await proxy.admin("/key/list?key_alias=tierless");
    assert.deepEqual(listed.json.keys, [], "no key was made");

    const key = await newKey({ rpm_limit: 9 });
    const update = await proxy.admin("/key/update", { body: { key: key.key, budget_id: "no-such-tier", rpm_limit: 1 } });
    assert.equal(update.status, 400);
    assert.match(JSON.stringify(update.json), /budget_id/);
    const info = await proxy.admin(`/key/info?key=${key.key as string}`);
    assert.equal((info.json.info as { rpm_limit: number }).rpm_limit, 9, "the rest of the update was not written either");
  });

  it("putting a key on a budget is the admin's: a user's own key may not", async () => {
    const user = await proxy.admin("/user/new", { body: { user_id: "tier-self-service", user_role: "internal_user" } });
    assert.equal(user.status, 200, JSON.stringify(user.json));
    await proxy.admin("/budget/new", { body: { budget_id: "tier-admins-only", rpm_limit: 5 } });
    const res = await fetch(`${proxy.base}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.json.key as string}`, "content-type": "application/json" },
      body: JSON.stringify({ budget_id: "tier-admins-only" }),
    });
    assert.equal(res.status, 403);
    assert.match(JSON.stringify(await res.json()), /budget_id/);
  });

  it("the tier's rpm_limit holds for each key on it, each counting its own requests; a key's own rpm_limit wins", async () => {
    await proxy.admin("/budget/new", { body: { budget_id: "tier-rpm", rpm_limit: 2 } });
    const first = await newKey({ budget_id: "tier-rpm" });
    const second = await newKey({ budget_id: "tier-rpm" });
    const own = await newKey({ budget_id: "tier-rpm", rpm_limit: 4 });
    assert.deepEqual(await statuses(first.key as string, 3), [200, 200, 429]);
    assert.deepEqual(await statuses(second.key as string, 3), [200, 200, 429], "the tier is a template, not a shared counter");
    assert.deepEqual(await statuses(own.key as string, 5), [200, 200, 200, 200, 429]);
  });

  it("a change to the tier reaches its keys at once, and a deleted tier leaves them with their own limits", async () => {
    await proxy.admin("/budget/new", { body: { budget_id: "tier-live", rpm_limit: 1 } });
    const key = (await newKey({ budget_id: "tier-live" })).key as string;
    assert.deepEqual(await statuses(key, 2), [200, 429]);
    assert.equal((await proxy.admin("/budget/update", { body: { budget_id: "tier-live", rpm_limit: 100 } })).status, 200);
    assert.equal((await chat(key)).status, 200, "the raised limit applies to the next request, not after a cache expires");

    assert.equal((await proxy.admin("/budget/update", { body: { budget_id: "tier-live", rpm_limit: 1 } })).status, 200);
    assert.equal((await chat(key)).status, 429);
    assert.equal((await proxy.admin("/budget/delete", { body: { id: "tier-live" } })).status, 200);
    const info = await proxy.admin(`/key/info?key=${key}`);
    assert.equal((info.json.info as { budget_id: string | null }).budget_id, null);
    assert.deepEqual(await statuses(key, 3), [200, 200, 200], "no tier, no limit");
  });

  it("the tier's max_budget bounds each key's own spend, with the key's budget words", async () => {
    await proxy.admin("/budget/new", { body: { budget_id: "tier-cheap", max_budget: 1e-9 } });
    const key = (await newKey({ budget_id: "tier-cheap" })).key as string;
    assert.equal((await chat(key)).status, 200, "the first request runs (nothing spent yet)");
    const refused = await eventually(
      () => chat(key),
      (r) => r.status !== 200,
      30_000,
    );
    assert.equal(refused.status, 400);
    assert.match(refused.message, /ExceededTokenBudget: Current spend for token: [0-9.e-]+; Max Budget for Token: 1e-9/);
    const other = (await newKey({ budget_id: "tier-cheap" })).key as string;
    assert.equal((await chat(other)).status, 200, "another key on the tier has its own spend");
  });

  it("a key without a budget_duration of its own runs in the tier's period: the tier's reset zeroes its spend", async () => {
    await proxy.admin("/budget/new", { body: { budget_id: "tier-period", max_budget: 1e-9, budget_duration: "3s" } });
    const key = (await newKey({ budget_id: "tier-period" })).key as string;
    assert.equal((await chat(key)).status, 200);
    await eventually(
      () => chat(key),
      (r) => r.status === 400,
      30_000,
    );
    const spendOf = async () => (await proxy.admin(`/key/info?key=${key}`)).json.info as { spend: number };
    await eventually(spendOf, (info) => info.spend > 0, 30_000);
    // The reset job runs every 10 s on each pod; the tier's 3 s periods have ended by then.
    await eventually(spendOf, (info) => info.spend === 0, 60_000);
    assert.equal((await chat(key)).status, 200, "a new period: admitted again");
  });
});
