// LiteLLM's usage and spend report endpoints: answered from the daily
// aggregates, on the replica, with the same totals as the spend rows; a
// user's key sees only its own; bad dates, ranges and page sizes are a 400
// naming the parameter.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startProxy, type Proxy } from "../test-support/proxy.js";
import { Witness } from "../test-support/pair.js";

type Json = Record<string, unknown>;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
// Around "now", whatever the hour: spend is filed under its UTC day.
const RANGE = `start_date=${day(-1)}&end_date=${day(1)}`;

describe("spend analytics endpoints", () => {
  let proxy: Proxy;
  let teamId: string;
  let teamKey: string;
  let teamKeyToken: string;
  let loneKey: string;
  let rowsTotal = 0;

  const get = async (path: string, key?: string) => {
    const res = await fetch(`${proxy.base}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : undefined);
    return { status: res.status, json: (await res.json()) as Json };
  };
  const admin = async (path: string) => {
    const res = await proxy.admin(path);
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.json)}`);
    return res.json as unknown;
  };
  const ask = (apiKey: string, user?: string, model = "gpt-4o-mini") =>
    new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 }).chat.completions.create({
      model,
      messages: [{ role: "user", content: "count these words please" }],
      ...(user ? { user } : {}),
    });
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

  before(async () => {
    proxy = await startProxy();
    const team = (await proxy.admin("/team/new", { body: { team_alias: "analytics-team" } })).json;
    teamId = String(team.team_id);
    await proxy.admin("/user/new", { body: { user_id: "ana", user_role: "internal_user", auto_create_key: false } });
    const made = (await proxy.admin("/key/generate", { body: { team_id: teamId, user_id: "ana", key_alias: "ana-key" } })).json;
    teamKey = String(made.key);
    teamKeyToken = String(made.token);
    loneKey = String((await proxy.admin("/key/generate", { body: { key_alias: "lone-key" } })).json.key);
    for (let i = 0; i < 3; i++) await ask(teamKey, "customer-a");
    await ask(loneKey, "customer-b");
    await ask(loneKey, undefined, "slow-model");
    const rows = await proxy.spendRows("", (list) => list.length >= 5);
    rowsTotal = rows.reduce((sum, row) => sum + Number(row.spend), 0);
    assert.ok(rowsTotal > 0);
    await proxy.caughtUp();
  });
  after(async () => {
    await proxy?.stop();
  });

  it("/user/daily/activity (admin): per day, the same total as the spend rows, broken down by model and by key with its alias", async () => {
    const answer = (await admin(`/user/daily/activity?${RANGE}`)) as {
      results: Array<{
        date: string;
        metrics: Json;
        breakdown: { models: Json; api_keys: Record<string, { metrics: Json; metadata: Json }> };
      }>;
      metadata: Json;
    };
    assert.ok(close(Number(answer.metadata.total_spend), rowsTotal), JSON.stringify(answer.metadata));
    assert.equal(answer.metadata.total_api_requests, 5);
    assert.equal(answer.results.length, 1, "one day of activity");
    const today = answer.results[0]!;
    assert.deepEqual(Object.keys(today.breakdown.models).sort(), ["gpt-4o-mini", "slow-model"]);
    assert.equal(today.breakdown.api_keys[teamKeyToken]?.metadata.key_alias, "ana-key");
    assert.equal(today.breakdown.api_keys[teamKeyToken]?.metrics.api_requests, 3);
  });

  it("/team/daily/activity: only the team's keys, the team named in its breakdown", async () => {
    const answer = (await admin(`/team/daily/activity?${RANGE}&team_ids=${teamId}`)) as {
      results: Array<{ breakdown: { entities: Record<string, { metadata: Json }>; api_keys: Json } }>;
      metadata: Json;
    };
    assert.equal(answer.metadata.total_api_requests, 3);
    assert.deepEqual(Object.keys(answer.results[0]!.breakdown.api_keys), [teamKeyToken]);
    assert.equal(answer.results[0]!.breakdown.entities[teamId]?.metadata.team_alias, "analytics-team");
  });

  it("/global/spend/report groups a day's spend by team, by customer (the request's user) and by key", async () => {
    const byTeam = (await admin(`/global/spend/report?${RANGE}`)) as Array<{ group_by_day: string; teams: Json[] }>;
    assert.match(byTeam[0]!.group_by_day, /^\d{4}-\d{2}-\d{2}T00:00:00\+00:00$/);
    const team = byTeam[0]!.teams.find((t) => t.team_id === teamId)!;
    assert.equal(team.team_name, "analytics-team");
    assert.deepEqual(
      (team.metadata as Json[]).map((m) => [m.model, m.api_key]),
      [["gpt-4o-mini", teamKeyToken]],
    );
    const byCustomer = (await admin(`/global/spend/report?${RANGE}&group_by=customer`)) as Array<{ customers: Json[] }>;
    assert.deepEqual(byCustomer[0]!.customers.map((c) => c.customer).sort(), ["customer-a", "customer-b"]);
    const byKey = (await admin(`/global/spend/report?${RANGE}&group_by=api_key&api_key=${teamKey}`)) as Array<{ api_keys: Json[] }>;
    assert.deepEqual(
      byKey[0]!.api_keys.map((k) => k.key_alias),
      ["ana-key"],
      "a raw key filters as its hash does",
    );
  });

  it("/global/spend/keys, /global/spend/models and /global/spend/teams: who and what spent most", async () => {
    const keys = (await admin("/global/spend/keys?limit=5")) as Json[];
    assert.deepEqual(keys.map((k) => k.key_alias).sort(), ["ana-key", "lone-key"]);
    assert.ok(
      close(
        keys.reduce((sum, k) => sum + Number(k.total_spend), 0),
        rowsTotal,
      ),
    );
    const models = (await admin(`/global/spend/models?limit=1&${RANGE}`)) as Json[];
    assert.equal(models.length, 1);
    assert.ok(["gpt-4o-mini", "slow-model"].includes(String(models[0]!.model)));
    const teams = (await admin("/global/spend/teams")) as { teams: string[]; daily_spend: Json[] };
    assert.ok(teams.teams.includes("analytics-team"));
    assert.equal(teams.daily_spend.length, 1);
  });

  it("a user's key reads its own user's activity only; the global reports are the admin's", async () => {
    const own = await get(`/user/daily/activity?${RANGE}`, teamKey);
    assert.equal(own.status, 200);
    assert.equal((own.json.metadata as Json).total_api_requests, 3);
    assert.equal((await get(`/user/daily/activity?${RANGE}&user_id=someone-else`, teamKey)).status, 403);
    const keyOnly = await get(`/user/daily/activity?${RANGE}`, loneKey);
    assert.equal((keyOnly.json.metadata as Json).total_api_requests, 2, "a key without a user reads its own spend");
    assert.equal((await get(`/team/daily/activity?${RANGE}`, teamKey)).status, 200);
    assert.equal((await get(`/team/daily/activity?${RANGE}`, loneKey)).status, 403);
    const report = await get(`/global/spend/report?${RANGE}`, teamKey);
    assert.ok([401, 403].includes(report.status), String(report.status));
  });

  it("bad dates, ranges, page sizes and groupings are a 400 naming the parameter", async () => {
    const cases: Array<[string, string]> = [
      ["/user/daily/activity?start_date=2026-13-01&end_date=2026-12-01", "start_date"],
      ["/user/daily/activity?start_date=yesterday&end_date=2026-12-01", "start_date"],
      ["/user/daily/activity?end_date=2026-12-01", "start_date"],
      ["/user/daily/activity?start_date=2026-12-02&end_date=2026-12-01", "end_date"],
      ["/user/daily/activity?start_date=2020-01-01&end_date=2026-12-01", "end_date"],
      [`/user/daily/activity?${RANGE}&page_size=0`, "page_size"],
      [`/user/daily/activity?${RANGE}&page_size=abc`, "page_size"],
      [`/team/daily/activity?${RANGE}&page=-1`, "page"],
      [`/global/spend/report?${RANGE}&group_by=planet`, "group_by"],
      [`/global/spend/report?${RANGE}&group_by=customer&team_id=t`, "team_id"],
      [`/global/spend/report?${RANGE}&customer_id=c`, "customer_id"],
      ["/global/spend/keys?limit=100000", "limit"],
      ["/global/spend/models?start_date=2026-12-01", "end_date"],
    ];
    for (const [path, field] of cases) {
      const res = await proxy.admin(path);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.json)}`);
      assert.match(JSON.stringify(res.json), new RegExp(field), path);
    }
  });

  it("pages over the days that have activity", async () => {
    const answer = (await admin(`/user/daily/activity?${RANGE}&page=2&page_size=1`)) as { results: unknown[]; metadata: Json };
    assert.deepEqual([answer.results.length, answer.metadata.total_pages, answer.metadata.has_more], [0, 1, false]);
  });

  it("every analytics read runs on the replica, and reads the aggregates, never the spend rows (pg_stat_statements)", async () => {
    const witness = await Witness.open(proxy.pair);
    const paths = [
      `/user/daily/activity?${RANGE}`,
      `/team/daily/activity?${RANGE}`,
      `/global/spend/report?${RANGE}`,
      "/global/spend/keys",
      "/global/spend/models",
      "/global/spend/teams",
    ];
    const aggregates = await witness.during(/"tandem_daily_spend"/, async () => {
      for (const path of paths) await admin(path);
    });
    assert.equal(aggregates.writer, 0, JSON.stringify(aggregates));
    assert.ok(aggregates.reader >= paths.length, JSON.stringify(aggregates));
    const spendRows = await witness.during(/"tandem_spend_rows"/, async () => {
      for (const path of paths) await admin(path);
    });
    assert.equal(spendRows.writer + spendRows.reader, 0, JSON.stringify(spendRows));
  });
});
