// Organizations (LiteLLM's /organization/*) through the HTTP API on a real primary/replica pair:
// LiteLLM's methods and answer shapes, members by role, teams kept within their organization's
// budget and models, and bad input refused with the field named and nothing written.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

type Org = {
  organization_id: string;
  organization_alias: string;
  budget_id: string;
  models: string[];
  litellm_budget_table: { budget_id: string; max_budget: number | null; rpm_limit: number | null } | null;
  members?: Array<{ user_id: string; user_role: string; user_email: string | null }>;
  teams?: Array<{ team_id: string }>;
};

describe("organizations", () => {
  let proxy: Proxy;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await proxy.admin(path, { method, ...(body === undefined ? {} : { body }) });
    return { status: res.status, json: res.json as unknown };
  };
  const ok = async <T = Org>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await call(method, path, body);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.json)}`);
    return res.json as T;
  };
  const refused = async (method: string, path: string, body: unknown, status: number, field: string) => {
    const res = await call(method, path, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`);
    assert.match(JSON.stringify(res.json), new RegExp(field), `names ${field}: ${JSON.stringify(res.json)}`);
  };
  const list = () => ok<Org[]>("GET", "/organization/list");

  before(async () => {
    proxy = await startProxy();
  });
  after(async () => {
    await proxy?.stop();
  });

  it("19 parallel /organization/new with one alias each make an organization with a budget; /organization/list shows them with budget, members and teams", async () => {
    const alias = `Organization: ${Date.now()}`;
    const made = await Promise.all(
      Array.from({ length: 19 }, () =>
        ok("POST", "/organization/new", { organization_alias: alias, models: ["azure-models"], max_budget: null }),
      ),
    );
    assert.equal(new Set(made.map((o) => o.organization_id)).size, 19);
    for (const org of made) assert.equal(org.litellm_budget_table?.budget_id, org.budget_id, "a budget of its own, even without limits");
    const listed = (await list()).filter((o) => o.organization_alias === alias);
    assert.equal(listed.length, 19);
    for (const org of listed) {
      assert.notEqual(org.litellm_budget_table, null);
      assert.deepEqual([org.members, org.teams, org.models], [[], [], ["azure-models"]]);
    }
    const byAlias = await ok<Org[]>("GET", `/organization/list?org_alias=${encodeURIComponent(alias.toUpperCase().slice(0, 20))}`);
    assert.ok(byAlias.length >= 19, "org_alias matches a part, in any case");
  });

  it("a member is added by user id, its role changed (PATCH) and removed (DELETE); the user stays", async () => {
    const org = await ok("POST", "/organization/new", { organization_alias: "members" });
    const user = await ok<{ user_id: string }>("POST", "/user/new", {
      user_email: `member-${Date.now()}@example.com`,
      auto_create_key: false,
    });
    const added = await ok<{ updated_organization_memberships: Array<{ user_role: string }> }>("POST", "/organization/member_add", {
      organization_id: org.organization_id,
      member: { user_id: user.user_id, role: "internal_user" },
    });
    assert.equal(added.updated_organization_memberships[0]!.user_role, "internal_user");
    const info = await ok("GET", `/organization/info?organization_id=${org.organization_id}`);
    assert.deepEqual(
      info.members!.map((m) => [m.user_id, m.user_role]),
      [[user.user_id, "internal_user"]],
    );
    const updated = await ok<{ user_role: string }>("PATCH", "/organization/member_update", {
      organization_id: org.organization_id,
      user_id: user.user_id,
      role: "org_admin",
    });
    assert.equal(updated.user_role, "org_admin");
    await ok("DELETE", "/organization/member_delete", { organization_id: org.organization_id, user_id: user.user_id });
    assert.deepEqual((await ok("GET", `/organization/info?organization_id=${org.organization_id}`)).members, []);
    assert.equal((await call("GET", `/user/info?user_id=${user.user_id}`)).status, 200);
  });

  it("member_add by an email nobody has makes that user; a member twice, an unknown organization or role is a 4xx naming it, adding nothing", async () => {
    const org = await ok("POST", "/organization/new", { organization_alias: "by-email" });
    const email = `new-${Date.now()}@example.com`;
    const added = await ok<{ updated_users: Array<{ user_id: string; user_email: string }> }>("POST", "/organization/member_add", {
      organization_id: org.organization_id,
      member: [{ user_email: email, role: "internal_user_viewer" }],
    });
    assert.equal(added.updated_users[0]!.user_email, email);
    const userId = added.updated_users[0]!.user_id;
    await refused(
      "POST",
      "/organization/member_add",
      { organization_id: org.organization_id, member: { user_id: userId, role: "org_admin" } },
      400,
      "member",
    );
    await refused(
      "POST",
      "/organization/member_add",
      { organization_id: "no-such-org", member: { user_id: userId, role: "org_admin" } },
      404,
      "organization_id",
    );
    await refused(
      "POST",
      "/organization/member_add",
      { organization_id: org.organization_id, member: { user_id: "x", role: "owner" } },
      400,
      "role",
    );
    await refused(
      "POST",
      "/organization/member_add",
      { organization_id: org.organization_id, member: { role: "org_admin" } },
      400,
      "user_id",
    );
    await refused(
      "PATCH",
      "/organization/member_update",
      { organization_id: org.organization_id, user_id: "ghost", role: "org_admin" },
      404,
      "user_id",
    );
    const members = (await ok("GET", `/organization/info?organization_id=${org.organization_id}`)).members!;
    assert.deepEqual(
      members.map((m) => [m.user_id, m.user_role, m.user_email]),
      [[userId, "internal_user_viewer", email]],
    );
  });

  it("a team in an organization stays within its budget, limits and models; an unknown organization is a 400; nothing is written when refused", async () => {
    const org = await ok("POST", "/organization/new", {
      organization_alias: "bounded",
      models: ["gpt-4o-mini"],
      max_budget: 10,
      rpm_limit: 60,
    });
    const teamsBefore = ((await ok<unknown[]>("GET", "/team/list")) as unknown[]).length;
    await refused("POST", "/team/new", { organization_id: "no-such-org" }, 400, "organization_id");
    await refused("POST", "/team/new", { organization_id: org.organization_id, max_budget: 11 }, 400, "max_budget");
    await refused("POST", "/team/new", { organization_id: org.organization_id, rpm_limit: 61 }, 400, "rpm_limit");
    await refused(
      "POST",
      "/team/new",
      { organization_id: org.organization_id, models: ["gpt-4o-mini", "o3"] },
      400,
      "Model 'o3' not in organization's allowed models",
    );
    assert.equal(((await ok<unknown[]>("GET", "/team/list")) as unknown[]).length, teamsBefore, "no team made");

    const team = await ok<{ team_id: string; organization_id: string }>("POST", "/team/new", {
      organization_id: org.organization_id,
      models: ["gpt-4o-mini"],
      max_budget: 10,
    });
    assert.equal(team.organization_id, org.organization_id);
    await refused("POST", "/team/update", { team_id: team.team_id, max_budget: 20 }, 400, "max_budget");
    const info = await ok<{ team_info: { max_budget: number } }>("GET", `/team/info?team_id=${team.team_id}`);
    assert.equal(info.team_info.max_budget, 10, "unchanged");
    assert.deepEqual(
      (await ok("GET", `/organization/info?organization_id=${org.organization_id}`)).teams!.map((t) => t.team_id),
      [team.team_id],
    );
  });

  it("/organization/update (PATCH) changes what is sent and the organization's budget in place; an unknown id is a 404", async () => {
    const org = await ok("POST", "/organization/new", { organization_alias: "before", max_budget: 1, metadata: { a: 1 } });
    const updated = await ok<Org & { metadata: Record<string, unknown> }>("PATCH", "/organization/update", {
      organization_id: org.organization_id,
      organization_alias: "after",
      max_budget: 2,
      metadata: { b: 2 },
    });
    assert.equal(updated.organization_alias, "after");
    assert.equal(updated.litellm_budget_table?.max_budget, 2);
    assert.equal(updated.budget_id, org.budget_id, "the same budget, changed");
    assert.deepEqual(updated.metadata, { a: 1, b: 2 });
    await refused("PATCH", "/organization/update", { organization_id: "no-such-org", organization_alias: "x" }, 404, "organization_id");
    await refused(
      "POST",
      "/organization/new",
      { organization_id: org.organization_id, organization_alias: "again" },
      400,
      "organization_id",
    );
    await refused("POST", "/organization/new", { models: [] }, 400, "organization_alias");
  });

  it("/organization/delete (DELETE) takes its teams and their keys with it; one unknown id deletes nothing", async () => {
    const org = await ok("POST", "/organization/new", { organization_alias: "doomed" });
    const team = await ok<{ team_id: string }>("POST", "/team/new", { organization_id: org.organization_id });
    const key = (await ok<{ key: string }>("POST", "/key/generate", { team_id: team.team_id })).key;
    await refused("DELETE", "/organization/delete", { organization_ids: [org.organization_id, "ghost"] }, 404, "ghost");
    assert.equal((await call("GET", `/organization/info?organization_id=${org.organization_id}`)).status, 200, "nothing deleted");

    const deleted = await ok<Org[]>("DELETE", "/organization/delete", { organization_ids: [org.organization_id] });
    assert.deepEqual(
      deleted.map((o) => [o.organization_id, o.teams!.map((t) => t.team_id)]),
      [[org.organization_id, [team.team_id]]],
    );
    assert.equal((await call("GET", `/organization/info?organization_id=${org.organization_id}`)).status, 404);
    assert.equal((await call("GET", `/team/info?team_id=${team.team_id}`)).status, 404);
    const res = await fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 401, "its team's key is gone");
  });

  it("an organization's max_budget refuses its teams' keys once spent (LiteLLM's words); its spend grows; a raised budget lets them through", async () => {
    const org = await ok("POST", "/organization/new", { organization_alias: "thrifty", max_budget: 1e-9 });
    const team = await ok<{ team_id: string }>("POST", "/team/new", { organization_id: org.organization_id });
    const key = (await ok<{ key: string }>("POST", "/key/generate", { team_id: team.team_id })).key;
    const chat = async () => {
      const res = await fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      });
      return { status: res.status, json: (await res.json()) as { error?: { message: string } } };
    };
    assert.equal((await chat()).status, 200, "nothing spent yet");
    const refused = await eventually(chat, (r) => r.status !== 200, 30_000);
    assert.equal(refused.status, 400, JSON.stringify(refused.json));
    assert.match(refused.json.error!.message, new RegExp(`^Budget has been exceeded! Organization=${org.organization_id} Current cost: `));
    const info = await eventually(
      () => ok<Org & { spend: number }>("GET", `/organization/info?organization_id=${org.organization_id}`),
      (o) => o.spend > 0,
      30_000,
    );
    assert.ok(info.spend > 1e-9);
    await ok("PATCH", "/organization/update", { organization_id: org.organization_id, max_budget: 100 });
    assert.equal((await eventually(chat, (r) => r.status === 200, 30_000)).status, 200);
  });

  it("making, changing and deleting organizations is the admin's: a virtual key is refused, and lists none it is not in", async () => {
    const key = (await ok<{ key: string }>("POST", "/key/generate", {})).key;
    const as = (method: string, path: string, body?: unknown) =>
      fetch(`${proxy.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    assert.equal((await as("POST", "/organization/new", { organization_alias: "mine" })).status, 401);
    const org = await ok("POST", "/organization/new", { organization_alias: "not-the-keys" });
    assert.equal((await as("PATCH", "/organization/update", { organization_id: org.organization_id, models: [] })).status, 401);
    assert.equal((await as("DELETE", "/organization/delete", { organization_ids: [org.organization_id] })).status, 401);
    assert.deepEqual(await (await as("GET", "/organization/list")).json(), []);
    assert.notEqual(key, MASTER_KEY);
  });

  it("an org_admin manages its own organization's members and makes teams in it; a member reads it; neither reaches another", async () => {
    const org = await ok("POST", "/organization/new", { organization_alias: "run-by-alice", models: ["gpt-4o-mini"], max_budget: 10 });
    const other = await ok("POST", "/organization/new", { organization_alias: "not-alices" });
    await ok("POST", "/organization/member_add", {
      organization_id: org.organization_id,
      member: [
        { user_id: "alice-oa", role: "org_admin" },
        { user_id: "bob-member", role: "internal_user" },
      ],
    });
    const keyOf = async (user: string) => (await ok<{ key: string }>("POST", "/key/generate", { user_id: user })).key;
    const [alice, bob] = [await keyOf("alice-oa"), await keyOf("bob-member")];
    const as = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${proxy.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const mine = { organization_id: org.organization_id };

    assert.equal(
      (await as(alice, "POST", "/organization/member_add", { ...mine, member: { user_id: "carol-new", role: "internal_user" } })).status,
      200,
    );
    assert.equal(
      (await as(alice, "PATCH", "/organization/member_update", { ...mine, user_id: "carol-new", role: "internal_user_viewer" })).status,
      200,
    );
    assert.equal((await as(alice, "DELETE", "/organization/member_delete", { ...mine, user_id: "carol-new" })).status, 200);
    const team = await as(alice, "POST", "/team/new", { ...mine, team_alias: "alices-team", max_budget: 5 });
    assert.equal(team.status, 200, JSON.stringify(team.json));
    const teamInfo = await ok<{ team_info: { organization_id: string; members_with_roles: Array<{ user_id: string; role: string }> } }>(
      "GET",
      `/team/info?team_id=${team.json.team_id as string}`,
    );
    assert.equal(teamInfo.team_info.organization_id, org.organization_id);
    const bare = await as(alice, "POST", "/team/new", { ...mine, team_alias: "alices-bare-team" });
    const bareInfo = await ok<{ team_info: { models: string[]; max_budget: number | null } }>(
      "GET",
      `/team/info?team_id=${bare.json.team_id as string}`,
    );
    assert.deepEqual(
      [bareInfo.team_info.models, bareInfo.team_info.max_budget],
      [["gpt-4o-mini"], 10],
      "a team an org_admin makes without models or limits takes the organization's, not every model unlimited",
    );
    assert.ok(
      teamInfo.team_info.members_with_roles.some((m) => m.user_id === "alice-oa" && m.role === "admin"),
      "its maker is the team's admin",
    );

    // What an org_admin may not do: another organization, a team outside its own, the admin's routes.
    const forbidden = async (key: string, method: string, path: string, body: unknown) => {
      const res = await as(key, method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.json)}`);
      assert.match(JSON.stringify(res.json), /organization_id/);
    };
    await forbidden(alice, "POST", "/organization/member_add", {
      organization_id: other.organization_id,
      member: { user_id: "x", role: "org_admin" },
    });
    await forbidden(alice, "GET", `/organization/info?organization_id=${other.organization_id}`, undefined);
    assert.equal(
      (await as(alice, "POST", "/team/new", { team_alias: "no-org" })).status,
      401,
      "a team outside any organization is the admin's",
    );
    await forbidden(alice, "POST", "/team/new", { organization_id: other.organization_id, team_alias: "elsewhere" });
    assert.equal(
      (await as(alice, "PATCH", "/organization/update", { ...mine, max_budget: 1000 })).status,
      401,
      "its budget is the admin's",
    );
    const overBudget = await as(alice, "POST", "/team/new", { ...mine, team_alias: "too-rich", max_budget: 50 });
    assert.equal(overBudget.status, 400, "the organization's bounds hold for its org_admin too");

    // A member reads its organization and lists only it; it manages nobody.
    const info = await as(bob, "GET", `/organization/info?organization_id=${org.organization_id}`);
    assert.equal(info.status, 200);
    const listed = (await as(bob, "GET", "/organization/list")).json as unknown as Org[];
    assert.deepEqual(
      listed.map((o) => o.organization_id),
      [org.organization_id],
    );
    await forbidden(bob, "POST", "/organization/member_add", { ...mine, member: { user_id: "y", role: "internal_user" } });

    // Demoted by the admin, alice is refused on her next call.
    await ok("PATCH", "/organization/member_update", { ...mine, user_id: "alice-oa", role: "internal_user" });
    await forbidden(alice, "DELETE", "/organization/member_delete", { ...mine, user_id: "bob-member" });
    const members = (await ok("GET", `/organization/info?organization_id=${org.organization_id}`)).members ?? [];
    assert.ok(
      members.some((m) => m.user_id === "bob-member"),
      "nothing was deleted",
    );
  });
});
