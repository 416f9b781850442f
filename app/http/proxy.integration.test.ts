// tandem as an LLM proxy, driven by the official OpenAI client, on a real
// primary/replica pair; the database side witnesses where each query ran.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import pg from "pg";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { eventually, MASTER_KEY, PRICES, startProxy, type Proxy } from "../test-support/proxy.js";
import { assertNoSecrets, Witness } from "../test-support/pair.js";

const KEY_READ = /^SELECT .*"tandem_verification_token"/s;
const TEAM_READ = /^SELECT .*"tandem_team"/s;
const SPEND_READ = /^SELECT .*"tandem_spend_rows"/s;
const ANY_WRITE = /^(INSERT|UPDATE|DELETE)/;
// "hello world" → 2 prompt tokens; "echo: hello world" → 3 completion tokens (the fake upstream counts words).
const COST = 2 * PRICES.input + 3 * PRICES.output;

describe("the proxy: keys, teams, spend and chat completions", () => {
  let proxy: Proxy;
  let witness: Witness;
  let teamId: string;
  let key: string;

  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 });
  const ask = (apiKey: string, model = "gpt-4o-mini") =>
    client(apiKey).chat.completions.create({ model, messages: [{ role: "user", content: "hello world" }] });
  const raw = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${proxy.base}${path}`, {
      method: "POST",
      ...init,
      headers: {
        authorization: `Bearer ${init.key ?? MASTER_KEY}`,
        "content-type": "application/json",
        ...(init.headers as Record<string, string>),
      },
    });
  const newKey = async (body: Record<string, unknown> = {}) => {
    const { status, json } = await proxy.admin("/key/generate", { body });
    assert.equal(status, 200, JSON.stringify(json));
    await proxy.pair.waitForReplay();
    return json.key as string;
  };

  before(async () => {
    proxy = await startProxy();
    witness = await Witness.open(proxy.pair);
    const team = await proxy.admin("/team/new", { body: { team_alias: "research", max_budget: 100 } });
    teamId = team.json.team_id as string;
    key = await newKey({ team_id: teamId, key_alias: "main", models: ["gpt-4o-mini", "slow-model", "limited", "hanging", "unreachable"] });
  });
  after(async () => {
    await proxy?.logs.flush();
    if (proxy) assertNoSecrets(proxy.logs.lines, [proxy.pair.appPassword, MASTER_KEY, key, "sk-upstream-secret"]);
    await witness?.close();
    await proxy?.stop();
  });

  describe("key and team management", () => {
    it("key/generate returns an sk- key once, stores only its hash, and writes on the writer", async () => {
      let body: Record<string, unknown> = {};
      const ran = await witness.during(/"tandem_verification_token"/, async () => {
        body = (
          await proxy.admin("/key/generate", {
            body: { models: ["gpt-4o-mini"], max_budget: 5, key_alias: "ci", metadata: { owner: "ci" } },
          })
        ).json;
      });
      assert.match(String(body.key), /^sk-[A-Za-z0-9_-]{22}$/);
      assert.deepEqual([body.key_alias, body.models, body.max_budget, body.metadata], ["ci", ["gpt-4o-mini"], 5, { owner: "ci" }]);
      assert.ok(ran.writer >= 1);
      assert.equal(ran.reader, 0);
      const db = new pg.Client({ connectionString: proxy.pair.primary.adminUrl });
      await db.connect();
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM tandem_verification_token WHERE token = $1 OR key_name = $1`, [
        body.key,
      ]);
      await db.end();
      assert.equal(rows[0].n, 0, "the plain key is not stored");
    });

    it("key/info works for the master key and for the key itself, and reads on the reader", async () => {
      await proxy.caughtUp(); // until then, reads of keys this pod just wrote go to the writer
      let asMaster: Record<string, unknown> = {};
      const ran = await witness.during(KEY_READ, async () => {
        asMaster = (await proxy.admin(`/key/info?key=${key}`)).json;
      });
      assert.equal(ran.writer, 0);
      assert.ok(ran.reader >= 1);
      const info = asMaster.info as Record<string, unknown>;
      assert.deepEqual([asMaster.key, info.team_id, info.key_alias], [key, teamId, "main"]);
      for (const field of ["spend", "max_budget", "models", "created_at"]) assert.ok(field in info, field);

      const self = await raw(`/key/info?key=${key}`, { method: "GET", key });
      assert.equal(self.status, 200);
      const other = await newKey();
      const denied = await raw(`/key/info?key=${other}`, { method: "GET", key });
      assert.equal(denied.status, 403, "another key is not this key's to read (LiteLLM: 403)");
    });

    it("team/info returns the team with its spend and keys, read on the reader", async () => {
      await proxy.caughtUp();
      let body: Record<string, unknown> = {};
      const ran = await witness.during(TEAM_READ, async () => {
        body = (await proxy.admin(`/team/info?team_id=${teamId}`)).json;
      });
      assert.equal(ran.writer, 0);
      assert.ok(ran.reader >= 1);
      assert.equal((body.team_info as Record<string, unknown>).team_alias, "research");
      assert.ok((body.keys as Array<Record<string, unknown>>).some((k) => k.key_alias === "main"));
    });

    it("a key for a team created a moment ago is accepted (the team check reads the writer)", async () => {
      const team = await proxy.admin("/team/new", { body: { team_alias: "fresh" } });
      const res = await proxy.admin("/key/generate", { body: { team_id: team.json.team_id } });
      assert.equal(res.status, 200);
      assert.equal(res.json.team_id, team.json.team_id);
    });
  });

  describe("chat completions through the official OpenAI client", () => {
    it("returns the upstream's completion unchanged", async () => {
      const completion = await ask(key);
      assert.equal(completion.choices[0]?.message.content, "echo: hello world");
      assert.deepEqual(completion.usage, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
      const sent = proxy.upstream.requests.at(-1);
      assert.equal(sent?.body.model, "echo", "the provider prefix is stripped");
      assert.equal(sent?.authorization, "Bearer sk-upstream-secret", "api_key resolved from os.environ/");
    });

    it("a completion the lean path leaves to Express (a query string, a gzip body, chunked) is answered the same", async () => {
      const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] });
      const variants: Array<[string, RequestInit & { key?: string }]> = [
        ["/v1/chat/completions?trace=1", { key, body }],
        ["/v1/chat/completions", { key, body: gzipSync(body), headers: { "content-encoding": "gzip" } }],
        ["/v1/chat/completions", { key, body: Readable.toWeb(Readable.from([body])) as ReadableStream, duplex: "half" } as RequestInit],
      ];
      for (const [path, init] of variants) {
        const res = await raw(path, init);
        const answer = (await res.json()) as { choices?: Array<{ message: { content: string } }> };
        assert.equal(res.status, 200, JSON.stringify(answer));
        assert.equal(answer.choices?.[0]?.message.content, "echo: hello world");
        assert.match(res.headers.get("x-request-id") ?? "", /./);
      }
    });

    it("streams: SSE events pass through and the proxy asks the upstream for usage", async () => {
      const stream = await client(key).chat.completions.create({
        model: "gpt-4o-mini",
        stream: true,
        messages: [{ role: "user", content: "hello world" }],
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "echo: hello world");
      assert.deepEqual(proxy.upstream.requests.at(-1)?.body.stream_options, { include_usage: true });
    });

    it("streams without buffering: the first event arrives while the upstream is still writing", async () => {
      const words = Array.from({ length: 20 }, (_, i) => `w${i}`).join(" ");
      const res = await raw("/v1/chat/completions", {
        key,
        body: JSON.stringify({ model: "slow-model", stream: true, messages: [{ role: "user", content: words }] }),
      });
      const reader = res.body!.getReader();
      await reader.read();
      assert.equal(proxy.upstream.openStreams(), 1, "the upstream had not finished its stream when the client got the first event");
      while (!(await reader.read()).done);
    });

    it("the virtual key lookup runs on the reader, once (the next request is served from the key cache); the spend row and increments on the writer", async () => {
      const fresh = await newKey({ team_id: teamId });
      await proxy.caughtUp();
      await witness.reset();
      await ask(fresh);
      await ask(fresh);
      // Spend is written in batches after the response: wait for the flush.
      const writes = await eventually(
        () => witness.count(ANY_WRITE),
        (w) => w.writer >= 2,
        30_000,
      );
      const lookups = await witness.count(KEY_READ);
      assert.deepEqual([lookups.reader, lookups.writer], [1, 0], `key lookups ${JSON.stringify(lookups)}`);
      const appReads = await witness.count(/^SELECT .*"tandem_(verification_token|team|user)"/s);
      assert.equal(appReads.reader, 1, "the key and its team in one statement");
      assert.ok(writes.writer >= 2 && writes.reader === 0, `spend writes ${JSON.stringify(writes)}`);
    });

    it("spend after N concurrent requests = the sum of the spend rows = N × the expected cost, for key and team", async () => {
      const n = 25;
      const spendKey = await newKey({ team_id: (await proxy.admin("/team/new", { body: { team_alias: "spenders" } })).json.team_id });
      await proxy.pair.waitForReplay();
      const results = await Promise.allSettled(Array.from({ length: n }, () => ask(spendKey)));
      assert.deepEqual(
        results.filter((r) => r.status === "rejected"),
        [],
      );
      const rows = await eventually(
        async () => (await proxy.admin(`/spend/logs?api_key=${spendKey}`)).json as unknown as Array<{ spend: number }>,
        (r) => Array.isArray(r) && r.length === n,
      );
      const sumOfRows = rows.reduce((s, r) => s + r.spend, 0);
      const primary = new pg.Client({ connectionString: proxy.pair.primary.adminUrl });
      await primary.connect();
      const { rows: totals } = await primary.query(
        `SELECT k.spend AS key_spend, t.spend AS team_spend FROM tandem_verification_token k JOIN tandem_team t USING (team_id) WHERE k.key_alias IS NULL AND k.token = encode(sha256($1::bytea), 'hex')`,
        [spendKey],
      );
      await primary.end();
      const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;
      assert.ok(close(sumOfRows, n * COST), `rows sum ${sumOfRows} vs ${n * COST}`);
      assert.ok(close(totals[0].key_spend, n * COST), `key spend ${totals[0].key_spend}`);
      assert.ok(close(totals[0].team_spend, n * COST), `team spend ${totals[0].team_spend}`);
    });

    it("without a global max_budget the proxy's spend still grows on LiteLLM's litellm-proxy-budget user, which refuses nothing", async () => {
      const proxyUser = async () =>
        (await proxy.admin("/user/info?user_id=litellm-proxy-budget")).json.user_info as { spend: number; max_budget: number | null };
      const before = await eventually(proxyUser, (user) => user !== undefined, 15_000);
      assert.equal(before.max_budget, null);
      for (let i = 0; i < 3; i++) await ask(key);
      const after = await eventually(proxyUser, (user) => user.spend >= before.spend + 3 * COST - 1e-12, 30_000);
      assert.ok(after.spend > 0);
    });

    const spendRows = async () => ((await proxy.admin(`/spend/logs?api_key=${key}`)).json as unknown as unknown[]).length;
    /** The key's spend rows once this pod's queue is empty. */
    const settledSpendRows = async () => {
      await eventually(
        async () => proxy.tandem.spend.length,
        (n) => n === 0,
        30_000,
      );
      return spendRows();
    };

    it("a spend write that fails is logged, counted and retried until it lands; the user's request still succeeds", async () => {
      const before = await settledSpendRows();
      const admin = new pg.Client({ connectionString: proxy.pair.primary.adminUrl });
      await admin.connect();
      await admin.query(`REVOKE INSERT ON tandem_spend_rows FROM ${proxy.pair.appUser}`);
      try {
        const completion = await ask(key);
        assert.equal(completion.choices[0]?.message.content, "echo: hello world");
        await eventually(
          async () => (await proxy.tandem.metrics.spendRecordFailures.get()).values[0]?.value ?? 0,
          (v) => v >= 2,
          30_000,
        );
        await proxy.logs.flush();
        assert.ok(proxy.logs.messages().includes("spend flush failed; will retry"));
        assert.equal(proxy.tandem.spend.length, 1, "the spend is still queued");
      } finally {
        await admin.query(`GRANT INSERT ON tandem_spend_rows TO ${proxy.pair.appUser}`);
        await admin.end();
      }
      await eventually(spendRows, (n) => n === before + 1, 30_000);
      assert.equal(proxy.tandem.spend.length, 0);
    });

    it("a client reusing one x-request-id on every request cannot make a spend write fail: one row per completion", async () => {
      const before = await settledSpendRows();
      const failuresBefore = (await proxy.tandem.metrics.spendRecordFailures.get()).values[0]?.value ?? 0;
      for (let i = 0; i < 3; i++) {
        const res = await raw("/v1/chat/completions", {
          key,
          headers: { "x-request-id": "same-id-every-time" },
          body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] }),
        });
        assert.equal(res.status, 200);
        await res.text();
      }
      await eventually(spendRows, (n) => n === before + 3, 30_000);
      assert.equal((await proxy.tandem.metrics.spendRecordFailures.get()).values[0]?.value ?? 0, failuresBefore, "no flush failed");
    });

    it("spend/logs?request_id= takes the completion's id (as LiteLLM's does) and returns its row, read on the reader", async () => {
      const res = await raw("/chat/completions", {
        key,
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] }),
      });
      const requestId = ((await res.json()) as { id: string }).id;
      assert.match(requestId, /^chatcmpl-/);
      await eventually(
        () => proxy.admin(`/spend/logs?request_id=${requestId}`).then((r) => r.json as unknown as unknown[]),
        (r) => r.length === 1,
      );
      await proxy.caughtUp();
      let rows: Array<Record<string, unknown>> = [];
      const ran = await witness.during(SPEND_READ, async () => {
        rows = (await proxy.admin(`/spend/logs?request_id=${requestId}`)).json as unknown as Array<Record<string, unknown>>;
      });
      assert.equal(rows.length, 1);
      assert.deepEqual(
        [rows[0]?.model, rows[0]?.prompt_tokens, rows[0]?.completion_tokens, rows[0]?.team_id],
        ["gpt-4o-mini", 2, 3, teamId],
      );
      assert.ok(Math.abs(Number(rows[0]?.spend) - COST) < 1e-15);
      assert.equal(ran.writer, 0);
      assert.ok(ran.reader >= 1);
      // LiteLLM's SpendLogs names.
      for (const field of [
        "request_id",
        "api_key",
        "spend",
        "total_tokens",
        "startTime",
        "endTime",
        "model",
        "user",
        "team_id",
        "metadata",
      ])
        assert.ok(field in (rows[0] ?? {}), field);
    });

    it("spend/logs with no filter lists the latest rows; startTime/endTime (LiteLLM's names) bound them; a bad date is a 400 naming it", async () => {
      const all = (await proxy.admin("/spend/logs")).json as unknown as unknown[];
      assert.ok(Array.isArray(all) && all.length > 0);
      const future = (await proxy.admin("/spend/logs?startTime=2999-01-01")).json as unknown as unknown[];
      assert.deepEqual(future, []);
      const bad = await proxy.admin("/spend/logs?endTime=yesterday-ish");
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.json), /endTime/);
    });
  });

  describe("refusals: the right status, an OpenAI-style error, and nothing written", () => {
    const refused = async (what: string, send: () => Promise<Response>, status: number, message: RegExp, type?: string) => {
      const upstreamCalls = proxy.upstream.requests.length;
      let res: Response | undefined;
      let body: { error?: { message?: string; type?: string; code?: string } } = {};
      const writes = await witness.during(ANY_WRITE, async () => {
        res = await send();
        body = (await res.json()) as typeof body;
        await new Promise((r) => setTimeout(r, 100)); // a spend write would have happened by now
      });
      assert.equal(res?.status, status, `${what}: ${JSON.stringify(body)}`);
      assert.match(body.error?.message ?? "", message, what);
      assert.deepEqual(Object.keys(body.error ?? {}), ["message", "type", "param", "code"], "LiteLLM's error shape");
      assert.equal(body.error?.code, String(status), "code is the status, as a string (LiteLLM)");
      if (type) assert.equal(body.error?.type, type, `${what}: LiteLLM's error type`);
      assert.equal(writes.writer, 0, `${what}: nothing written`);
      assert.equal(proxy.upstream.requests.length, upstreamCalls, `${what}: upstream not called`);
    };
    const chat = (k: string, body: unknown) => () => raw("/v1/chat/completions", { key: k, body: JSON.stringify(body) });
    const hello = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hello world" }] };

    it("wrong key → 401 token_not_found_in_db", () =>
      refused("wrong key", chat("sk-not-a-key", hello), 401, /Invalid proxy server token/, "token_not_found_in_db"));
    it("no key → 401", () =>
      refused(
        "no key",
        () => fetch(`${proxy.base}/v1/chat/completions`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } }),
        401,
        /No api key passed in/,
        "auth_error",
      ));
    it("deleted key → 401", async () => {
      const doomed = await newKey();
      const del = await proxy.admin("/key/delete", { body: { keys: [doomed] } });
      assert.deepEqual(del.json, { deleted_keys: [doomed] });
      await proxy.pair.waitForReplay();
      await refused("deleted key", chat(doomed, hello), 401, /Invalid proxy server token/, "token_not_found_in_db");
    });
    it("expired key → 400 expired_key (LiteLLM's status)", async () => {
      const shortLived = await newKey({ duration: "1s" });
      await new Promise((r) => setTimeout(r, 1100));
      await refused("expired key", chat(shortLived, hello), 400, /Expired Key/, "expired_key");
    });
    it("model not allowed for the key → 401 key_model_access_denied", async () => {
      const narrow = await newKey({ models: ["slow-model"] });
      await refused(
        "model not allowed",
        chat(narrow, hello),
        401,
        /key not allowed to access model.*Tried to access gpt-4o-mini/,
        "key_model_access_denied",
      );
    });
    it("model not allowed for the key's team → 401 team_model_access_denied", async () => {
      const team = await proxy.admin("/team/new", { body: { team_alias: "narrow-team", models: ["slow-model"] } });
      const member = await newKey({ team_id: team.json.team_id });
      await refused("team model not allowed", chat(member, hello), 401, /team not allowed to access model/, "team_model_access_denied");
    });
    it("unknown model → 400 naming the model field", () =>
      refused("unknown model", chat(key, { ...hello, model: "gpt-9" }), 400, /^model: "gpt-9" is not configured/));
    it("key over budget → 400 in LiteLLM's words", async () => {
      const broke = await newKey({ max_budget: 0 });
      await refused(
        "over budget",
        chat(broke, hello),
        400,
        /^Budget has been exceeded! ExceededTokenBudget: Current spend for token: 0; Max Budget for Token: 0$/,
        "budget_exceeded",
      );
    });
    it("user over budget → 400 in LiteLLM's words", async () => {
      const user = await proxy.admin("/user/new", { body: { max_budget: 0, auto_create_key: false } });
      const broke = await newKey({ user_id: user.json.user_id });
      await refused(
        "user over budget",
        chat(broke, hello),
        400,
        /^ExceededBudget: User=\S+ over budget\. Spend=0, Budget=0$/,
        "budget_exceeded",
      );
    });
    it("team over budget → 400 saying so", async () => {
      const team = await proxy.admin("/team/new", { body: { team_alias: "broke-team", max_budget: 0 } });
      const member = await newKey({ team_id: team.json.team_id });
      await refused("team over budget", chat(member, hello), 400, /^Budget has been exceeded! Team=\S+ Current cost: 0, Max budget: 0$/);
    });
    it("malformed JSON → 400 naming the problem", () =>
      refused(
        "malformed JSON",
        () => raw("/v1/chat/completions", { key, body: '{"model": "gpt-4o-mini",' }),
        400,
        /^body: malformed JSON/,
      ));
    it("missing messages → 400 naming the field", () =>
      refused("missing messages", chat(key, { model: "gpt-4o-mini" }), 400, /^messages: /));
    it("oversized body → 413", () =>
      refused(
        "oversized",
        chat(key, { ...hello, messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] }),
        413,
        /larger than/,
      ));
    it("a bad key/generate field → 400 naming it", () =>
      refused("bad max_budget", () => raw("/key/generate", { body: JSON.stringify({ max_budget: "lots" }) }), 400, /^max_budget: /));
    it("admin endpoints refuse virtual keys → 401 auth_error (as LiteLLM)", () =>
      refused("key generating keys", () => raw("/key/generate", { key, body: "{}" }), 401, /Only the master key/, "auth_error"));
    it("unknown team_id on key/generate → 400 naming team_id", () =>
      refused(
        "unknown team",
        () => raw("/key/generate", { body: JSON.stringify({ team_id: "nope" }) }),
        400,
        /^team_id: team nope does not exist/,
      ));
  });

  describe("upstream failures come back OpenAI-style", () => {
    it("an upstream error keeps its status and body (429)", async () => {
      const error = await ask(key, "limited").catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 429);
      assert.match(error.message, /Rate limit reached/);
    });
    it("an unreachable upstream → 502", async () => {
      const error = await ask(key, "unreachable").catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 502);
    });
    it("an upstream that never answers → 504 after the model's timeout", async () => {
      const error = await ask(key, "hanging").catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 504);
    });
  });
});
