// Where LiteLLM's own end-to-end tests and clients tell LiteLLM's answers
// apart, tandem answers the same: shared team aliases, 403 for "not yours",
// /user/update making a user, the global proxy budget user, budget messages.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

describe("LiteLLM conformance of the management API", () => {
  let proxy: Proxy;

  const admin = async (path: string, body?: unknown) => {
    const res = await proxy.admin(path, body === undefined ? {} : { body });
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const asKey = async (key: string, path: string) => {
    const res = await fetch(`${proxy.base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, json: (await res.json()) as { error?: { message: string; type: string; code: string } } };
  };
  const chat = async (key: string, model = "gpt-4o-mini") => {
    const res = await fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    return { status: res.status, json: (await res.json()) as { error?: { message: string; type: string } } };
  };

  before(async () => {
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => ({
          // LiteLLM's wildcard route: any other model name goes to the upstream under that name.
          models: ['  - model_name: "*"', "    litellm_params:", "      model: openai/*", `      api_base: ${url}`],
          sections: "litellm_settings:\n  max_budget: 100\n  budget_duration: 30d\n",
        }),
      },
    );
  });
  after(async () => {
    await proxy?.stop();
  });

  describe("teams", () => {
    it("several teams may share an alias, and /team/list?team_alias= returns them all", async () => {
      const created = await Promise.all(Array.from({ length: 10 }, () => admin("/team/new", { team_alias: "shared-alias" })));
      assert.equal(new Set(created.map((t) => t.team_id)).size, 10);
      const listed = (await admin("/team/list?team_alias=shared-alias")) as unknown as Array<{ team_id: string }>;
      assert.deepEqual(listed.map((t) => t.team_id).sort(), created.map((t) => String(t.team_id)).sort());
    });

    it("team members are LiteLLM's Member objects; the admin who made the team is one of them", async () => {
      const team = await admin("/team/new", { members_with_roles: [{ role: "user", user_email: "m@example.com" }] });
      assert.deepEqual(team.members_with_roles, [
        { role: "user", user_id: null, user_email: "m@example.com" },
        { role: "admin", user_id: "default_user_id", user_email: null },
      ]);
    });

    it("member_add by user_email reaches the user with that email; /user/new with team_id makes a member", async () => {
      const user = await admin("/user/new", { user_email: "by-email@example.com", auto_create_key: false });
      const team = String((await admin("/team/new", {})).team_id);
      await admin("/team/member_add", { team_id: team, member: [{ role: "user", user_email: "by-email@example.com" }] });
      assert.ok(((await admin(`/user/info?user_id=${String(user.user_id)}`)).user_info as { teams: string[] }).teams.includes(team));
      const removed = await admin("/team/member_delete", { team_id: team, user_email: "by-email@example.com" });
      assert.ok(!(removed.members_with_roles as Array<{ user_email: string | null }>).some((m) => m.user_email === "by-email@example.com"));
      assert.ok(!((await admin(`/user/info?user_id=${String(user.user_id)}`)).user_info as { teams: string[] }).teams.includes(team));
      const joined = await admin("/user/new", { team_id: team, auto_create_key: false });
      const info = await admin(`/team/info?team_id=${team}`);
      assert.ok(
        (info.team_info as { members_with_roles: Array<{ user_id: string }> }).members_with_roles.some((m) => m.user_id === joined.user_id),
      );
    });

    it("a team's model_aliases let its keys ask for the alias", async () => {
      const team = String((await admin("/team/new", { model_aliases: { "cheap-model": "gpt-4o-mini" } })).team_id);
      const key = String((await admin("/key/generate", { team_id: team, models: ["gpt-4o-mini"] })).key);
      assert.equal((await chat(key, "cheap-model")).status, 200);
    });

    it("a member's budget within the team (/team/member_update max_budget_in_team) refuses their keys once spent", async () => {
      const team = String((await admin("/team/new", {})).team_id);
      const user = await admin("/user/new", { team_id: team, max_budget: 10 });
      assert.equal(
        ((await admin(`/key/info?key=${String(user.key)}`)).info as { team_id: string }).team_id,
        team,
        "the user's key is the team's",
      );
      const updated = await admin("/team/member_update", { team_id: team, user_id: user.user_id, max_budget_in_team: 1e-7 });
      assert.deepEqual([updated.user_id, updated.max_budget_in_team], [user.user_id, 1e-7]);
      assert.equal((await chat(String(user.key))).status, 200, "nothing spent yet");
      const refused = await eventually(
        () => chat(String(user.key)),
        (res) => res.status !== 200,
        15_000,
      );
      assert.equal(refused.status, 400);
      assert.match(
        refused.json.error?.message ?? "",
        new RegExp(`^Budget has been exceeded! User=${String(user.user_id)} in Team=${team} Current cost: `),
      );
      const info = await admin(`/user/info?user_id=${String(user.user_id)}`);
      const membership = (
        info.teams as Array<{ team_id: string; team_memberships: Array<{ spend: number; litellm_budget_table: { max_budget: number } }> }>
      ).find((t) => t.team_id === team)!.team_memberships[0]!;
      assert.equal(membership.litellm_budget_table.max_budget, 1e-7);
      await eventually(
        async () =>
          ((await admin(`/user/info?user_id=${String(user.user_id)}`)).teams as Array<{ team_memberships: Array<{ spend: number }> }>)[0]!
            .team_memberships[0]!.spend,
        (spend) => spend > 0,
        15_000,
      );
    });

    it("/team/update answers LiteLLM's {team_id, data}", async () => {
      const team = String((await admin("/team/new", {})).team_id);
      const updated = await admin("/team/update", { team_id: team, team_alias: "renamed" });
      assert.equal(updated.team_id, team);
      assert.equal((updated.data as { team_alias: string }).team_alias, "renamed");
    });

    it("a team id used twice is still refused with a 400 naming team_id", async () => {
      await admin("/team/new", { team_id: "only-once" });
      const again = await proxy.admin("/team/new", { body: { team_id: "only-once" } });
      assert.equal(again.status, 400);
      assert.equal((again.json.error as { param: string }).param, "team_id");
    });
  });

  describe("403 for what is not the caller's; 401 stays 'who are you'", () => {
    it("a key reading another key's /key/info gets 403", async () => {
      const mine = String((await admin("/key/generate", {})).key);
      const theirs = String((await admin("/key/generate", {})).key);
      const res = await asKey(mine, `/key/info?key=${theirs}`);
      assert.equal(res.status, 403, JSON.stringify(res.json));
      assert.match(res.json.error?.message ?? "", /not allowed to access this key's info/);
      assert.equal((await asKey(mine, `/key/info?key=${mine}`)).status, 200);
    });

    it("a key reading another user's /user/info gets 403", async () => {
      const mine = String((await admin("/key/generate", { user_id: "u-mine" })).key);
      await admin("/user/new", { user_id: "u-theirs", auto_create_key: false });
      const res = await asKey(mine, "/user/info?user_id=u-theirs");
      assert.equal(res.status, 403, JSON.stringify(res.json));
      assert.equal((await asKey(mine, "/user/info?user_id=u-mine")).status, 200, "its own user");
    });

    it("a key reads its own team's /team/info; another team's, or one that does not exist, is 403", async () => {
      const team = String((await admin("/team/new", {})).team_id);
      const other = String((await admin("/team/new", {})).team_id);
      const member = String((await admin("/key/generate", { team_id: team })).key);
      assert.equal((await asKey(member, `/team/info?team_id=${team}`)).status, 200);
      assert.equal((await asKey(member, `/team/info?team_id=${other}`)).status, 403);
      assert.equal((await asKey(member, "/team/info?team_id=no-such-team")).status, 403);
    });

    it("a user's key reads a team the user is a member of", async () => {
      const team = String((await admin("/team/new", { members_with_roles: [{ role: "user", user_id: "u-member" }] })).team_id);
      const key = String((await admin("/key/generate", { user_id: "u-member" })).key);
      assert.equal((await asKey(key, `/team/info?team_id=${team}`)).status, 200);
    });

    it("a key asking about a key that does not exist gets 404, as in LiteLLM", async () => {
      const mine = String((await admin("/key/generate", {})).key);
      assert.equal((await asKey(mine, "/key/info?key=sk-does-not-exist-anywhere")).status, 404);
    });

    it("an unknown key is still 401", async () => {
      assert.equal((await asKey("sk-nobody-at-all", "/key/info")).status, 401);
    });
  });

  describe("LiteLLM clients' request bodies", () => {
    it("null models and metadata mean none; max_parallel_requests 0 is a key that may run nothing", async () => {
      const created = await admin("/key/generate", { models: null, metadata: null, max_parallel_requests: 0 });
      assert.deepEqual([created.models, created.metadata, created.max_parallel_requests], [[], {}, 0]);
      assert.equal(created.token_id, created.token, "LiteLLM's token_id is the key's hash");
      assert.equal((await chat(String(created.key))).status, 429);
      assert.equal((await proxy.admin("/team/new", { body: { models: null } })).status, 200);
    });
  });

  describe("roles: a user's key manages that user's keys; a proxy_admin's key administers", () => {
    it("an internal_user's key makes keys for its user, and may not touch another user's keys (403)", async () => {
      const alice = await admin("/user/new", { user_role: "internal_user" });
      const bob = await admin("/user/new", { user_role: "internal_user" });
      const as = (key: unknown) => ({ authorization: `Bearer ${String(key)}`, "content-type": "application/json" });
      const post = (key: unknown, path: string, body: unknown) =>
        fetch(`${proxy.base}${path}`, { method: "POST", headers: as(key), body: JSON.stringify(body) });

      const made = await post(alice.key, "/key/generate", { user_id: alice.user_id, key_alias: `alice-${Date.now()}` });
      assert.equal(made.status, 200);
      const extra = (await made.json()) as { key: string; user_id: string };
      assert.equal(extra.user_id, alice.user_id);
      assert.equal((await post(alice.key, "/key/generate", { user_id: bob.user_id })).status, 403, "not for another user");
      assert.equal(
        (await post(alice.key, "/key/update", { key: extra.key, user_id: bob.user_id })).status,
        403,
        "not handed to another user",
      );
      assert.equal((await post(bob.key, "/key/update", { key: extra.key, max_budget: 1 })).status, 403, "not bob's to change");
      assert.equal((await post(bob.key, "/key/delete", { keys: [extra.key] })).status, 403, "not bob's to delete");
      assert.equal((await post(bob.key, "/team/new", {})).status, 401, "admin routes stay the admin's");
      const limited = await post(alice.key, "/key/update", { key: extra.key, max_budget: null, key_alias: "mine" });
      assert.equal(limited.status, 403, "what the admin set on a key is the admin's to change");
      assert.match(((await limited.json()) as { error: { message: string } }).error.message, /^max_budget: only the proxy admin/);
      assert.equal((await post(alice.key, "/key/update", { key: extra.key, key_alias: `renamed-${Date.now()}` })).status, 200);
      assert.equal((await post(alice.key, "/key/delete", { keys: [extra.key] })).status, 200);
    });

    it("a user made only by naming it on a key is a viewer: its keys may not make keys", async () => {
      const key = String((await admin("/key/generate", { user_id: `implicit-${Date.now()}` })).key);
      const res = await fetch(`${proxy.base}/key/generate`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(res.status, 403);
    });

    it("a proxy_admin user's key administers: any key, admin routes", async () => {
      const boss = await admin("/user/new", { user_role: "proxy_admin" });
      const someone = String((await admin("/key/generate", { user_id: "someone-else" })).key);
      const read = await fetch(`${proxy.base}/key/info?key=${someone}`, { headers: { authorization: `Bearer ${String(boss.key)}` } });
      assert.equal(read.status, 200, "an admin reads any key");
      const res = await fetch(`${proxy.base}/key/delete`, {
        method: "POST",
        headers: { authorization: `Bearer ${String(boss.key)}`, "content-type": "application/json" },
        body: JSON.stringify({ keys: [someone] }),
      });
      assert.equal(res.status, 200);
    });
  });

  describe("wildcards", () => {
    it("a model_list entry named * serves any model name; a key with models [*] may use it", async () => {
      const key = String((await admin("/key/generate", { models: ["*"] })).key);
      const res = await chat(key, "gpt-3.5-turbo-0125");
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(proxy.upstream.requests.at(-1)?.body.model, "gpt-3.5-turbo-0125");
    });

    it("a key's provider/* entry allows the names under it, and only those", async () => {
      const key = String((await admin("/key/generate", { models: ["anthropic/*"] })).key);
      assert.equal((await chat(key, "anthropic/claude-x")).status, 200);
      assert.equal((await chat(key, "gpt-4o-mini")).status, 401);
    });
  });

  describe("users", () => {
    it("/user/update of a user id that does not exist yet creates it, with the fields given (spend too)", async () => {
      const updated = await admin("/user/update", { user_id: "made-by-update", max_budget: 5, spend: 1.5 });
      assert.deepEqual([updated.user_id, updated.max_budget, updated.spend], ["made-by-update", 5, 1.5]);
      const info = await admin("/user/info?user_id=made-by-update");
      assert.equal((info.user_info as { spend: number }).spend, 1.5);
    });
  });

  describe("the global proxy budget (litellm_settings.max_budget)", () => {
    it("is LiteLLM's user litellm-proxy-budget, made at start with the budget and its period", async () => {
      // Made as the proxy starts (without holding the start up if the writer is away).
      const found = await eventually(
        () => proxy.admin("/user/info?user_id=litellm-proxy-budget"),
        (res) => res.status === 200,
        15_000,
      );
      const user = found.json.user_info as { max_budget: number; budget_duration: string; budget_reset_at: string };
      assert.deepEqual([user.max_budget, user.budget_duration], [100, "30d"]);
      assert.ok(Date.parse(user.budget_reset_at) > Date.now() + 29 * 86_400_000);
    });

    it("grows with every request's spend, whoever's key made it", async () => {
      const spendOf = async () => ((await admin("/user/info?user_id=litellm-proxy-budget")).user_info as { spend: number }).spend;
      const before = await spendOf();
      const key = String((await admin("/key/generate", {})).key);
      assert.equal((await chat(key)).status, 200);
      await eventually(spendOf, (spent) => spent > before, 15_000);
    });

    it("once spent, refuses virtual keys with LiteLLM's message; the master key still works", async () => {
      const key = String((await admin("/key/generate", {})).key);
      await admin("/user/update", { user_id: "litellm-proxy-budget", spend: 100 });
      try {
        // The global row is re-read at most every second.
        const refused = await eventually(
          () => chat(key),
          (res) => res.status !== 200,
          15_000,
        );
        assert.equal(refused.status, 400, JSON.stringify(refused.json));
        assert.match(refused.json.error?.message ?? "", /^Budget has been exceeded! Current cost: \d+(\.\d+)?, Max budget: 100$/);
        assert.equal(refused.json.error?.type, "budget_exceeded");
        assert.equal((await chat(MASTER_KEY)).status, 200);
      } finally {
        await admin("/user/update", { user_id: "litellm-proxy-budget", spend: 0 });
      }
      await eventually(
        () => chat(key),
        (res) => res.status === 200,
        15_000,
      );
    });
  });
});
