// Budgets as objects and end users (LiteLLM's customers), through the HTTP API on a real
// primary/replica pair: LiteLLM's request and answer shapes, bad input refused with the field named
// and nothing written, and an end user's budget, rate limit and block applied to requests naming it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { eventually, MASTER_KEY, modelEntry, startProxy, type Proxy } from "../test-support/proxy.js";

describe("budgets and end users", () => {
  let proxy: Proxy;
  const chat = (user: string, apiKey = MASTER_KEY) =>
    new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: "gpt-4o-mini", user, messages: [{ role: "user", content: "hello world" }] })
      .then(
        () => ({ status: 200, message: "" }),
        (error: { status?: number; message?: string }) => ({ status: error.status ?? 0, message: error.message ?? "" }),
      );

  before(async () => {
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => {
          // One group over two regions and a deployment that names none (LiteLLM's own test config has the same).
          const inRegion = (region: string | undefined, id: string) => {
            const lines = modelEntry("regional", "echo", url, { id });
            if (region) lines.splice(lines.indexOf("    litellm_params:") + 1, 0, `      region_name: ${region}`);
            return lines;
          };
          return { models: [...inRegion("eu", "regional-eu"), ...inRegion("us", "regional-us"), ...inRegion(undefined, "regional-any")] };
        },
      },
    );
  });
  after(async () => {
    await proxy?.stop();
  });

  it("/budget/new, /budget/info, /budget/update, /budget/list and /budget/delete answer with LiteLLM's BudgetTable", async () => {
    const made = await proxy.admin("/budget/new", { body: { budget_id: "b-daily", max_budget: 0.02, budget_duration: "1d" } });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    assert.equal(made.json.budget_id, "b-daily");
    const period = Date.parse(made.json.budget_reset_at as string) - Date.parse(made.json.created_at as string);
    assert.ok(Math.abs(period - 86_400_000) < 5_000, `a day's period from its creation (${period} ms)`);

    assert.equal((await proxy.admin("/budget/new", { body: { budget_id: "b-daily" } })).status, 400, "an id taken");
    const updated = await proxy.admin("/budget/update", { body: { budget_id: "b-daily", rpm_limit: 7 } });
    assert.equal(updated.json.rpm_limit, 7);
    assert.equal(updated.json.max_budget, 0.02, "fields not sent are kept");
    const info = await proxy.admin("/budget/info", { body: { budgets: ["b-daily", "nope"] } });
    assert.deepEqual(
      (info.json as unknown as Array<{ budget_id: string }>).map((b) => b.budget_id),
      ["b-daily"],
    );
    const list = await proxy.admin("/budget/list");
    assert.ok((list.json as unknown as Array<{ budget_id: string }>).some((b) => b.budget_id === "b-daily"));

    const unknown = await proxy.admin("/budget/update", { body: { budget_id: "nope", max_budget: 1 } });
    assert.equal(unknown.status, 404);
    assert.match(JSON.stringify(unknown.json), /budget_id/);
    assert.equal((await proxy.admin("/budget/delete", { body: { id: "b-daily" } })).status, 200);
    assert.equal((await proxy.admin("/budget/delete", { body: { id: "b-daily" } })).status, 404);
  });

  it("bad end-user input is a 4xx naming the field, and writes nothing", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ user_id: "bad-1", budget_id: "no-such-budget" }, "budget_id"],
      [{ user_id: "bad-2", budget_id: "x", max_budget: 1 }, "max_budget"],
      [{ user_id: "bad-3", default_model: "no-such-model" }, "default_model"],
      [{ user_id: "bad-4", allowed_model_region: "mars" }, "allowed_model_region"],
      [{ user_id: "bad-5", max_budget: -1 }, "max_budget"],
    ];
    for (const [body, field] of cases) {
      const { status, json } = await proxy.admin("/end_user/new", { body });
      assert.ok(status >= 400 && status < 500, `${JSON.stringify(body)}: ${status}`);
      assert.match(JSON.stringify(json), new RegExp(field), `${JSON.stringify(body)} names ${field}: ${JSON.stringify(json)}`);
      assert.equal((await proxy.admin(`/end_user/info?end_user_id=${body.user_id}`)).status, 404, "nothing written");
    }
    const list = (await proxy.admin("/budget/list")).json as unknown as unknown[];
    assert.equal(list.length, 0, "no budget half-made for a refused end user");
  });

  it("an end user made with limits gets a budget of its own; /customer/* answers as /end_user/*; a second with its id is a 400; delete names the unknown", async () => {
    const made = await proxy.admin("/customer/new", {
      body: { user_id: "cust-1", alias: "Acme", max_budget: 10, rpm_limit: 100, allowed_model_region: "eu", default_model: null },
    });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    const table = made.json.litellm_budget_table as { budget_id: string; max_budget: number; rpm_limit: number };
    assert.equal(table.max_budget, 10);
    assert.equal(table.rpm_limit, 100);
    assert.equal(made.json.budget_id, table.budget_id);
    const info = await proxy.admin("/end_user/info?end_user_id=cust-1");
    assert.equal(info.json.alias, "Acme");
    assert.equal(info.json.allowed_model_region, "eu");
    const again = await proxy.admin("/end_user/new", { body: { user_id: "cust-1" } });
    assert.equal(again.status, 400);
    assert.match(JSON.stringify(again.json), /Customer already exists, passed user_id=cust-1/);

    const changed = await proxy.admin("/end_user/update", { body: { user_id: "cust-1", max_budget: 20 } });
    assert.equal((changed.json.litellm_budget_table as { max_budget: number; budget_id: string }).max_budget, 20);
    assert.equal((changed.json.litellm_budget_table as { budget_id: string }).budget_id, table.budget_id, "its budget changed in place");

    const missing = await proxy.admin("/end_user/delete", { body: { user_ids: ["cust-1", "ghost"] } });
    assert.equal(missing.status, 404);
    assert.match(JSON.stringify(missing.json), /ghost/);
    assert.equal((await proxy.admin("/end_user/info?end_user_id=cust-1")).status, 200, "nothing deleted when one id is unknown");
    const deleted = await proxy.admin("/customer/delete", { body: { user_ids: ["cust-1"] } });
    assert.equal(deleted.json.deleted_customers, 1);
  });

  it("an end user's budget rpm_limit holds for requests naming it as `user`, the master key's too (LiteLLM's shared-budget test)", async () => {
    await proxy.admin("/budget/new", { body: { budget_id: "b-rpm", rpm_limit: 3 } });
    assert.equal((await proxy.admin("/end_user/new", { body: { user_id: "limited-user", budget_id: "b-rpm" } })).status, 200);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await chat("limited-user"));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 429, 429, 429],
    );
    assert.equal((await chat("someone-else")).status, 200, "another end user is not limited by it");
  });

  it("an end user over its max_budget is refused with LiteLLM's ExceededBudget words; its spend is on /end_user/info", async () => {
    assert.equal((await proxy.admin("/end_user/new", { body: { user_id: "thrifty", max_budget: 1e-9 } })).status, 200);
    assert.equal((await chat("thrifty")).status, 200, "the first request runs (nothing spent yet)");
    const refused = await eventually(
      () => chat("thrifty"),
      (r) => r.status !== 200,
      30_000,
    );
    assert.match(refused.message, /ExceededBudget: End User=thrifty over budget/);
    const info = await eventually(
      () => proxy.admin("/end_user/info?end_user_id=thrifty"),
      (r) => (r.json.spend as number) > 0,
      30_000,
    );
    assert.ok((info.json.spend as number) > 1e-9);
  });

  it("a `user` nobody made is made by its first request, with that request's spend", async () => {
    assert.equal((await chat("walk-in")).status, 200);
    const info = await eventually(
      () => proxy.admin("/end_user/info?end_user_id=walk-in"),
      (r) => r.status === 200,
      30_000,
    );
    assert.ok((info.json.spend as number) > 0);
    assert.equal(info.json.blocked, false);
  });

  it("an end user with allowed_model_region is served only by deployments in that region, and the answer says which", async () => {
    assert.equal((await proxy.admin("/end_user/new", { body: { user_id: "eu-customer", allowed_model_region: "eu" } })).status, 200);
    const client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
    const served = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const { response } = await client.chat.completions
        .create({ model: "regional", user: "eu-customer", messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      assert.equal(response.headers.get("x-litellm-model-region"), "eu");
      served.add(response.headers.get("x-litellm-model-id")!);
    }
    assert.deepEqual([...served], ["regional-eu"]);
    // The same group without the end user is spread over all three deployments.
    const anyone = new Set<string>();
    for (let i = 0; i < 40 && anyone.size < 3; i++) {
      const { response } = await client.chat.completions
        .create({ model: "regional", messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      anyone.add(response.headers.get("x-litellm-model-id")!);
    }
    assert.equal(anyone.size, 3);
  });

  it("a model with no deployment in the end user's region is a 400 naming `user`", async () => {
    assert.equal((await proxy.admin("/end_user/new", { body: { user_id: "us-customer", allowed_model_region: "us" } })).status, 200);
    const res = await fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", user: "us-customer", messages: [{ role: "user", content: "hi" }] }),
    });
    const json = (await res.json()) as { error: { message: string; param: string } };
    assert.equal(res.status, 400);
    assert.equal(json.error.param, "user");
    assert.match(json.error.message, /region us/);
  });

  it("x-litellm-customer-id (and x-litellm-end-user-id) name the end user as `user` does, ahead of the body", async () => {
    await proxy.admin("/customer/block", { body: { user_ids: ["header-blocked"] } });
    const send = (headers: Record<string, string>, user?: string) =>
      fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "gpt-4o-mini", ...(user ? { user } : {}), messages: [{ role: "user", content: "hi" }] }),
      });
    assert.equal((await send({ "x-litellm-customer-id": "header-blocked" }, "someone-fine")).status, 400);
    assert.equal((await send({ "x-litellm-end-user-id": "header-blocked" })).status, 400);
    assert.equal((await send({ "x-litellm-end-user-id": "header-walk-in" })).status, 200);
    const info = await eventually(
      () => proxy.admin("/end_user/info?end_user_id=header-walk-in"),
      (r) => r.status === 200,
      30_000,
    );
    assert.ok((info.json.spend as number) > 0, "the spend is the header's end user's");
  });

  it("/customer/block refuses the end user's requests (making it if new); /customer/unblock lets them through again", async () => {
    const blocked = await proxy.admin("/customer/block", { body: { user_ids: ["blocked-user"] } });
    assert.equal(blocked.status, 200);
    const refused = await chat("blocked-user");
    assert.equal(refused.status, 400);
    assert.match(refused.message, /User blocked from making LLM API Calls\. User=blocked-user/);
    assert.equal((await proxy.admin("/customer/unblock", { body: { user_ids: ["blocked-user"] } })).status, 200);
    assert.equal((await chat("blocked-user")).status, 200);
  });
});
