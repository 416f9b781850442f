// Models kept in the database (LiteLLM's /model/new with store_model_in_db) on a real primary/replica
// pair and a real Redis: a model added on one pod serves on every pod and after a restart, its
// upstream key sealed in the row and never shown; updates and deletes follow; access groups and
// teams' own models gate who may call them; bad bodies are refused naming the field, with nothing written.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { startMigratedPair, Witness, type LocalPair } from "../test-support/pair.js";
import { startRedis, type RedisServer } from "../test-support/redis.js";

const STORE = { sections: "general_settings:\n  store_model_in_db: true\n" };
const UPSTREAM_KEY = "sk-stored-upstream-key-0123";

describe("models kept in the database", () => {
  let pair: LocalPair;
  let redis: RedisServer;
  let a: Proxy;
  let b: Proxy;
  const env = () => ({ REDIS_URL: redis.url, LITELLM_SALT_KEY: "salt-for-tests" });
  const start = (extra: Record<string, string> = {}) => startProxy({ ...env(), ...extra }, { pair, extraConfig: () => STORE });

  const chat = (proxy: Proxy, model: string, key = MASTER_KEY) =>
    fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    }).then(async (res) => ({ status: res.status, json: (await res.json()) as Record<string, unknown> }));
  const writerRows = async () => {
    const client = new pg.Client({ connectionString: pair.primary.adminUrl });
    await client.connect();
    try {
      return (
        await client.query<{ model_id: string; text: string }>(`SELECT model_id, row_to_json(m)::text AS text FROM tandem_proxy_model m`)
      ).rows;
    } finally {
      await client.end();
    }
  };
  const newModel = (proxy: Proxy, body: Record<string, unknown>) => proxy.admin("/model/new", { body });
  const echoModel = (name: string, id: string, extra: Record<string, unknown> = {}) => ({
    model_name: name,
    litellm_params: { model: "openai/echo", api_base: a.upstream.url, api_key: UPSTREAM_KEY },
    model_info: { id, ...extra },
  });

  before(async () => {
    [pair, redis] = await Promise.all([startMigratedPair(), startRedis()]);
    [a, b] = await Promise.all([start(), start()]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    pair?.stop();
  });

  it("a model added on one pod answers there at once, and on the other pod through the fleet", async () => {
    const added = await newModel(a, echoModel("db-chat", "db-chat-1"));
    assert.equal(added.status, 200, JSON.stringify(added.json));
    assert.equal(added.json.model_id, "db-chat-1");
    assert.equal((added.json.model_info as Record<string, unknown>).db_model, true);
    assert.ok(!JSON.stringify(added.json).includes(UPSTREAM_KEY), "the answer never shows the upstream key");

    const here = await chat(a, "db-chat");
    assert.equal(here.status, 200, JSON.stringify(here.json));
    const call = a.upstream.requests.at(-1)!;
    assert.equal(call.authorization, `Bearer ${UPSTREAM_KEY}`, "the upstream gets the key the model was added with");
    assert.equal(call.body.model, "echo");
    const there = await eventually(
      () => chat(b, "db-chat"),
      (r) => r.status === 200,
      30_000,
    );
    assert.equal(there.status, 200);
  });

  it("the row holds the upstream key sealed, and /model/info lists the model without it", async () => {
    const rows = await writerRows();
    const row = rows.find((r) => r.model_id === "db-chat-1");
    assert.ok(row, "the model is a row on the writer");
    assert.ok(!row.text.includes(UPSTREAM_KEY), `the key is not in the row: ${row.text}`);
    assert.match(row.text, /tandem-sealed:v1:/);
    const info = await b.admin("/model/info?litellm_model_id=db-chat-1");
    const data = info.json.data as Array<{ model_name: string; model_info: Record<string, unknown> }>;
    assert.deepEqual(
      data.map((m) => [m.model_name, m.model_info.id, m.model_info.db_model]),
      [["db-chat", "db-chat-1", true]],
    );
    assert.ok(!JSON.stringify(info.json).includes(UPSTREAM_KEY));
    const logs = [...a.logs.lines, ...b.logs.lines];
    assert.ok(!logs.some((line) => line.includes(UPSTREAM_KEY)), "nor does any log line");
  });

  it("each pod reads the models again from a replica, not the writer", async () => {
    await a.caughtUp();
    const witness = await Witness.open(pair);
    await witness.reset();
    const seen = await eventually(
      () => witness.count(/tandem_proxy_model/),
      (count) => count.reader > 0,
      30_000,
    );
    assert.ok(seen.reader > 0);
    assert.equal(seen.writer, 0, "no reload read went to the writer");
  });

  it("a pod started later serves it: the models survive restarts", async () => {
    const c = await start();
    try {
      const res = await chat(c, "db-chat");
      assert.equal(res.status, 200, JSON.stringify(res.json));
    } finally {
      await c.stop();
    }
  });

  it("a pod with another LITELLM_SALT_KEY cannot open the key: it lists the model as unserved and starts", async () => {
    const c = await start({ LITELLM_SALT_KEY: "another-salt" });
    try {
      const res = await chat(c, "db-chat");
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.match(JSON.stringify(res.json), /LITELLM_SALT_KEY/);
      assert.equal((await chat(c, "gpt-4o-mini")).status, 200, "the config file's models still serve");
    } finally {
      await c.stop();
    }
  });

  it("an update changes what every pod calls; a key not given is kept", async () => {
    const renamed = await a.admin("/model/update", { body: { model_name: "db-chat-v2", model_info: { id: "db-chat-1" } } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.json));
    assert.equal(renamed.json.model_name, "db-chat-v2");
    await eventually(
      () => chat(b, "db-chat-v2"),
      (r) => r.status === 200,
      30_000,
    );
    assert.equal(a.upstream.requests.at(-1)!.authorization, `Bearer ${UPSTREAM_KEY}`, "the stored key was kept");
    assert.equal((await chat(a, "db-chat")).status, 400, "the old name is gone");

    const patched = await b.admin("/model/db-chat-1/update", {
      method: "PATCH",
      body: { litellm_params: { api_key: "sk-rotated-upstream" } },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    assert.equal((await chat(b, "db-chat-v2")).status, 200);
    assert.equal(a.upstream.requests.at(-1)!.authorization, "Bearer sk-rotated-upstream");
  });

  it("a null parameter is one not given, as LiteLLM's clients send them: none on a new model, the stored one kept on an update", async () => {
    const body = echoModel("db-nulls", "db-nulls-1");
    const added = await newModel(a, { ...body, litellm_params: { ...body.litellm_params, api_key: null, rpm: null } });
    assert.equal(added.status, 200, JSON.stringify(added.json));
    assert.equal((await chat(a, "db-nulls")).status, 200);
    assert.equal(a.upstream.requests.at(-1)!.authorization, undefined, "no key was sent: none was given");

    const keyed = await a.admin("/model/update", { body: { model_info: { id: "db-nulls-1" }, litellm_params: { api_key: UPSTREAM_KEY } } });
    assert.equal(keyed.status, 200, JSON.stringify(keyed.json));
    const nulled = await a.admin("/model/update", { body: { model_info: { id: "db-nulls-1" }, litellm_params: { api_key: null } } });
    assert.equal(nulled.status, 200, JSON.stringify(nulled.json));
    assert.equal((await chat(a, "db-nulls")).status, 200);
    assert.equal(a.upstream.requests.at(-1)!.authorization, `Bearer ${UPSTREAM_KEY}`, "null on an update kept the stored key");
  });

  it("a model in an access group is allowed to keys that name the group, and listed as it", async () => {
    assert.equal((await newModel(a, echoModel("beta-chat", "beta-1", { access_groups: ["beta-models"] }))).status, 200);
    const keyOf = async (body: Record<string, unknown>) => (await a.admin("/key/generate", { body })).json.key as string;
    const beta = await keyOf({ models: ["beta-models"] });
    const other = await keyOf({ models: ["gpt-4o-mini"] });
    assert.equal((await chat(a, "beta-chat", beta)).status, 200);
    assert.equal((await chat(a, "beta-chat", other)).status, 401);
    const groups = await fetch(`${a.base}/models?only_model_access_groups=True`, { headers: { authorization: `Bearer ${beta}` } });
    assert.deepEqual(
      ((await groups.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id),
      ["beta-models"],
    );
  });

  it("a team's own model serves that team's keys and no one else's", async () => {
    const team = (await a.admin("/team/new", { body: { team_alias: "model-owners" } })).json.team_id as string;
    const otherTeam = (await a.admin("/team/new", { body: { team_alias: "others" } })).json.team_id as string;
    assert.equal((await newModel(a, echoModel("owners-chat", "owners-1", { team_id: team }))).status, 200);
    const own = (await a.admin("/key/generate", { body: { team_id: team } })).json.key as string;
    const foreign = (await a.admin("/key/generate", { body: { team_id: otherTeam } })).json.key as string;
    assert.equal((await chat(a, "owners-chat", own)).status, 200);
    const refused = await chat(a, "owners-chat", foreign);
    assert.equal(refused.status, 401, JSON.stringify(refused.json));
    const listed = await fetch(`${a.base}/v1/models`, { headers: { authorization: `Bearer ${foreign}` } });
    assert.ok(!JSON.stringify(await listed.json()).includes("owners-chat"), "nor is it listed to them");
  });

  it("a deleted model stops serving on every pod", async () => {
    const deleted = await b.admin("/model/delete", { body: { id: "db-chat-1" } });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    assert.match(String(deleted.json.message), /db-chat-1 deleted/);
    assert.equal((await chat(b, "db-chat-v2")).status, 400);
    await eventually(
      () => chat(a, "db-chat-v2"),
      (r) => r.status === 400,
      30_000,
    );
  });

  it("bad bodies are refused naming the field, and nothing is written", async () => {
    const before = (await writerRows()).length;
    const cases: Array<[string, string, Record<string, unknown>, number, string]> = [
      ["no provider and model", "/model/new", { model_name: "x", litellm_params: {} }, 400, "litellm_params.model"],
      [
        "a provider tandem does not serve",
        "/model/new",
        { model_name: "x", litellm_params: { model: "sagemaker/x" } },
        400,
        "litellm_params.model",
      ],
      [
        "a variable this pod does not have",
        "/model/new",
        { model_name: "x", litellm_params: { model: "openai/echo", api_key: "os.environ/TANDEM_TEST_UNSET_KEY" } },
        400,
        "litellm_params.api_key",
      ],
      ["an id that is taken", "/model/new", echoModel("x", "beta-1"), 400, "model_info.id"],
      ["a config file's model id", "/model/new", echoModel("x", "gpt-4o-mini/0"), 400, "model_info.id"],
      ["an unknown team", "/model/new", echoModel("x", "x-1", { team_id: "no-such-team" }), 400, "model_info.team_id"],
      ["a name a team owns", "/model/new", echoModel("owners-chat", "x-3"), 400, "model_name"],
      [
        "a mode the provider lacks",
        "/model/new",
        { ...echoModel("x", "x-4"), litellm_params: { model: "anthropic/claude" }, model_info: { id: "x-4", mode: "embedding" } },
        400,
        "model_info.mode",
      ],
      ["an update without an id", "/model/update", { model_name: "y" }, 400, "model_info"],
      ["an update of an unknown id", "/model/update", { model_info: { id: "nope" } }, 404, "model_info.id"],
      ["an update of a config file's model", "/model/update", { model_info: { id: "gpt-4o-mini/0" } }, 400, "model_info.id"],
      ["a delete of an unknown id", "/model/delete", { id: "nope" }, 404, "id"],
      ["a delete of a config file's model", "/model/delete", { id: "gpt-4o-mini/0" }, 400, "id"],
    ];
    for (const [what, path, body, status, field] of cases) {
      const res = await a.admin(path, { body });
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(
        JSON.stringify(res.json),
        new RegExp(field.replaceAll(".", "\\.")),
        `${what} names ${field}: ${JSON.stringify(res.json)}`,
      );
    }
    const virtual = (await a.admin("/key/generate", { body: {} })).json.key as string;
    const byKey = await fetch(`${a.base}/model/new`, {
      method: "POST",
      headers: { authorization: `Bearer ${virtual}`, "content-type": "application/json" },
      body: JSON.stringify(echoModel("x", "x-5")),
    });
    assert.equal(byKey.status, 401, "a virtual key cannot add models");
    assert.equal((await writerRows()).length, before, "nothing was written");
  });

  it("without store_model_in_db, /model/new says which setting turns it on", async () => {
    const plain = await startProxy({}, { pair });
    try {
      const res = await newModel(plain, echoModel("x", "x-6"));
      assert.equal(res.status, 400);
      assert.match(JSON.stringify(res.json), /store_model_in_db/);
    } finally {
      await plain.stop();
    }
  });
});
