// LiteLLM's management API as a LiteLLM user calls it — key lifecycle,
// users, teams — and the rate limits it sets, on a real primary/replica pair.
// Every change takes effect on the next request, though the replica may not
// have it yet (read-your-writes).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { Witness } from "../test-support/pair.js";

describe("LiteLLM's management API and rate limits", () => {
  let proxy: Proxy;

  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
  const ask = (apiKey: string, model = "gpt-4o-mini") =>
    client(apiKey).chat.completions.create({ model, messages: [{ role: "user", content: "hello world" }] });
  /** The HTTP status a chat request with this key gets. */
  const statusOf = async (apiKey: string, model = "gpt-4o-mini") => {
    try {
      await ask(apiKey, model);
      return 200;
    } catch (error) {
      return (error as { status?: number }).status ?? 0;
    }
  };
  const admin = async (path: string, body?: unknown) => {
    const res = await proxy.admin(path, body === undefined ? {} : { body });
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const newKey = async (body: Record<string, unknown> = {}) => (await admin("/key/generate", body)).key as string;

  before(async () => {
    proxy = await startProxy();
  });
  after(async () => {
    await proxy?.stop();
  });

  describe("keys", () => {
    it("key/generate takes LiteLLM's fields: user_id, a chosen key, duration in weeks or months, budget_duration, aliases, limits", async () => {
      const created = await admin("/key/generate", {
        key: "sk-my-own-key-123",
        user_id: "alice",
        duration: "2w",
        budget_duration: "1mo",
        max_budget: 10,
        aliases: { "gpt-4": "gpt-4o-mini" },
        rpm_limit: 100,
        tpm_limit: 10_000,
        max_parallel_requests: 5,
        key_alias: "alice-main",
      });
      assert.equal(created.key, "sk-my-own-key-123");
      const weeks = (Date.parse(String(created.expires)) - Date.now()) / 86_400_000;
      assert.ok(weeks > 13.9 && weeks <= 14, `expires in 2 weeks, got ${weeks} days`);
      assert.ok(Date.parse(String(created.budget_reset_at)) > Date.now() + 27 * 86_400_000);
      assert.deepEqual([created.user_id, created.rpm_limit, created.tpm_limit, created.max_parallel_requests], ["alice", 100, 10_000, 5]);
      const answer = await ask("sk-my-own-key-123", "gpt-4");
      assert.equal(answer.choices[0]?.message.content, "echo: hello world", "the alias reaches gpt-4o-mini");
      const user = await admin("/user/info?user_id=alice");
      assert.equal((user.keys as unknown[]).length, 1, "the user exists and owns the key");
    });

    it("key/update changes what a key may do, effective on its very next request", async () => {
      const key = await newKey({ models: ["gpt-4o-mini"] });
      assert.equal(await statusOf(key), 200);
      const updated = await admin("/key/update", { key, models: ["slow-model"], max_budget: 3 });
      assert.deepEqual([updated.models, updated.max_budget], [["slow-model"], 3]);
      assert.equal(await statusOf(key), 401, "gpt-4o-mini is no longer allowed");
    });

    it("key/block refuses the key at once; key/unblock lets it back", async () => {
      const key = await newKey();
      assert.equal((await admin("/key/block", { key })).blocked, true);
      assert.equal(await statusOf(key), 401);
      assert.equal((await admin("/key/unblock", { key })).blocked, false);
      assert.equal(await statusOf(key), 200);
    });

    it("key/regenerate (both routes): a new secret for the same key — spend and alias kept, the old secret refused", async () => {
      const old = await newKey({ key_alias: "rotating", max_budget: 50 });
      await ask(old);
      const fresh = await admin("/key/regenerate", { key: old });
      assert.notEqual(fresh.key, old);
      assert.equal(fresh.key_alias, "rotating");
      assert.equal(await statusOf(old), 401);
      assert.equal(await statusOf(String(fresh.key)), 200);
      const again = await admin(`/key/${String(fresh.key)}/regenerate`, { max_budget: 60 });
      assert.equal(again.max_budget, 60);
      assert.equal(await statusOf(String(fresh.key)), 401);
      assert.equal(await statusOf(String(again.key)), 200);
    });

    it("key/info without ?key= answers for the calling key", async () => {
      const key = await newKey({ key_alias: "whoami" });
      const res = await fetch(`${proxy.base}/key/info`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { info: { key_alias: string } };
      assert.equal(body.info.key_alias, "whoami");
    });

    it("key/list pages through keys (hashes by default, whole objects on request) and filters by user", async () => {
      for (let i = 0; i < 3; i++) await newKey({ user_id: "lister" });
      const first = await admin("/key/list?user_id=lister&size=2&page=1");
      assert.deepEqual([first.total_count, first.current_page, first.total_pages, (first.keys as unknown[]).length], [3, 1, 2, 2]);
      assert.match(String((first.keys as string[])[0]), /^[0-9a-f]{64}$/);
      const second = await admin("/key/list?user_id=lister&size=2&page=2&return_full_object=true");
      assert.equal((second.keys as Array<{ user_id: string }>)[0]?.user_id, "lister");
    });

    it("key/delete by key_aliases", async () => {
      const key = await newKey({ key_alias: "doomed-alias" });
      assert.deepEqual(await admin("/key/delete", { key_aliases: ["doomed-alias"] }), { deleted_keys: ["doomed-alias"] });
      assert.equal(await statusOf(key), 401);
    });

    it("budget_duration: a key over its budget is admitted again when its period ends, and the period moves on", async () => {
      // One request costs more than this budget; the period is 3 s.
      const created = await admin("/key/generate", { max_budget: 0.0000001, budget_duration: "3s" });
      const key = String(created.key);
      const firstReset = Date.parse(String(created.budget_reset_at));
      assert.equal(await statusOf(key), 200);
      assert.equal(await statusOf(key), 400, "over budget");
      await eventually(
        async () => Date.now(),
        (now) => now > firstReset,
        30_000,
      );
      assert.equal(await statusOf(key), 200, "a new period: admitted again");
      const info = await eventually(
        async () => (await admin(`/key/info?key=${key}`)).info as { budget_reset_at: string },
        (i) => Date.parse(i.budget_reset_at) > firstReset,
        60_000,
      );
      assert.ok(Date.parse(info.budget_reset_at) > Date.now() - 3000, "the reset job started a new period");
    });

    it("refuses a duration in an unknown unit with a 400 naming the field", async () => {
      const res = await proxy.admin("/key/generate", { body: { duration: "3y" } });
      assert.equal(res.status, 400);
      assert.equal((res.json.error as { param: string }).param, "duration");
    });
  });

  describe("users", () => {
    it("user/new returns a usable key; user/info, user/update, user/list, user/delete work as in LiteLLM", async () => {
      const created = await admin("/user/new", { user_id: "bob", user_email: "bob@example.com", max_budget: 20, models: ["gpt-4o-mini"] });
      const key = String(created.key);
      assert.equal(await statusOf(key), 200);
      assert.equal(await statusOf(key, "slow-model"), 401, "the user's model list applies to the user's keys");

      const info = await admin("/user/info?user_id=bob");
      assert.equal((info.user_info as { user_email: string }).user_email, "bob@example.com");

      await admin("/user/update", { user_id: "bob", max_budget: 0 });
      assert.equal(await statusOf(key), 400, "the user's budget applies to the user's keys (spent)");

      const list = await admin("/user/list?page=1&page_size=100");
      assert.ok((list.users as Array<{ user_id: string }>).some((u) => u.user_id === "bob"));

      assert.deepEqual(await admin("/user/delete", { user_ids: ["bob"] }), { deleted_users: ["bob"], deleted_keys: 1 });
      assert.equal(await statusOf(key), 401, "the user's keys go with the user");
    });

    it("a user's spend grows with their keys' requests", async () => {
      const created = await admin("/user/new", { user_id: "carol" });
      await ask(String(created.key));
      await eventually(
        async () => ((await admin("/user/info?user_id=carol")).user_info as { spend: number }).spend,
        (spend) => spend > 0,
        30_000,
      );
    });
  });

  describe("teams", () => {
    it("team/new without an alias; team/update, team/list, member_add, member_delete; team models enforced", async () => {
      const team = await admin("/team/new", { models: ["gpt-4o-mini"] });
      const teamId = String(team.team_id);
      assert.equal(team.team_alias, null);
      const key = await newKey({ team_id: teamId });
      assert.equal(await statusOf(key), 200);

      await admin("/team/update", { team_id: teamId, team_alias: "renamed", models: ["slow-model"] });
      assert.equal(await statusOf(key), 401, "the team's new model list applies at once");

      const listed = (await proxy.admin("/team/list")).json as unknown as Array<{ team_id: string; team_alias: string }>;
      assert.equal(listed.find((t) => t.team_id === teamId)?.team_alias, "renamed");

      const added = await admin("/team/member_add", { team_id: teamId, member: { role: "user", user_id: "dave" } });
      // LiteLLM's creator of the team (the proxy admin) is its first admin.
      const admin0 = { role: "admin", user_id: "default_user_id", user_email: null };
      assert.deepEqual(added.members_with_roles, [admin0, { role: "user", user_id: "dave", user_email: null }]);
      assert.deepEqual((await admin("/user/info?user_id=dave")).teams, [
        { team_id: teamId, team_alias: "renamed", models: ["slow-model"], max_budget: null, spend: 0, team_memberships: [] },
      ]);
      const removed = await admin("/team/member_delete", { team_id: teamId, user_id: "dave" });
      assert.deepEqual(removed.members_with_roles, [admin0]);
    });

    it("team/block refuses the team's keys; team/delete deletes the team and its keys", async () => {
      const team = await admin("/team/new", { team_alias: "short-lived" });
      const key = await newKey({ team_id: team.team_id });
      await admin("/team/block", { team_id: team.team_id });
      assert.equal(await statusOf(key), 401);
      await admin("/team/unblock", { team_id: team.team_id });
      assert.equal(await statusOf(key), 200);
      assert.deepEqual(await admin("/team/delete", { team_ids: [team.team_id] }), { deleted_teams: [team.team_id], deleted_keys: 1 });
      assert.equal(await statusOf(key), 401);
    });
  });

  it("management reads run on the replica once it has the writes (pg_stat_statements on both servers)", async () => {
    await admin("/user/new", { user_id: "reader-check", auto_create_key: false });
    await proxy.caughtUp();
    const witness = await Witness.open(proxy.pair);
    const ran = await witness.during(/^SELECT .*"tandem_(user|verification_token|team)"/s, async () => {
      await admin("/user/info?user_id=reader-check");
      await admin("/user/list");
      await admin("/key/list");
      await proxy.admin("/team/list");
    });
    assert.equal(ran.writer, 0, JSON.stringify(ran));
    assert.ok(ran.reader >= 5, JSON.stringify(ran));
  });

  describe("rate limits: 429 with retry-after, before the upstream is called", () => {
    it("rpm_limit on a key", async () => {
      const key = await newKey({ rpm_limit: 2 });
      assert.deepEqual([await statusOf(key), await statusOf(key)], [200, 200]);
      const calls = proxy.upstream.requests.length;
      const res = await fetch(`${proxy.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
      });
      const body = (await res.json()) as { error: { message: string; code: string } };
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get("retry-after")) >= 1 && Number(res.headers.get("retry-after")) <= 60);
      assert.match(body.error.message, /rpm_limit 2/);
      assert.equal(proxy.upstream.requests.length, calls, "the upstream was not called");
    });

    it("tpm_limit on a key: the request after the one that crossed it is refused", async () => {
      const key = await newKey({ tpm_limit: 5 });
      assert.equal(await statusOf(key), 200, "5 tokens used");
      assert.equal(await statusOf(key), 429);
    });

    it("max_parallel_requests on a key: a second request while one streams is refused", async () => {
      const key = await newKey({ max_parallel_requests: 1 });
      const stream = await client(key).chat.completions.create({
        model: "slow-model",
        messages: [{ role: "user", content: "one two three four five" }],
        stream: true,
      });
      assert.equal(await statusOf(key), 429);
      for await (const _ of stream) {
        // drain
      }
      assert.equal(await statusOf(key), 200, "free again once the stream ends");
    });

    it("rpm_limit on a team counts all its keys", async () => {
      const team = await admin("/team/new", { rpm_limit: 1 });
      const [a, b] = [await newKey({ team_id: team.team_id }), await newKey({ team_id: team.team_id })];
      assert.deepEqual([await statusOf(a), await statusOf(b)], [200, 429]);
      const metrics = await (await fetch(`${proxy.base}/metrics`)).text();
      assert.match(metrics, /tandem_rate_limited_total\{scope="team"\} 1/);
    });

    it("rpm_limit on a user counts all the user's keys", async () => {
      await admin("/user/new", { user_id: "erin", rpm_limit: 1, auto_create_key: false });
      const [a, b] = [await newKey({ user_id: "erin" }), await newKey({ user_id: "erin" })];
      assert.deepEqual([await statusOf(a), await statusOf(b)], [200, 429]);
    });

    it("the master key is never rate limited", async () => {
      for (let i = 0; i < 5; i++) assert.equal(await statusOf(MASTER_KEY), 200);
    });
  });
});
