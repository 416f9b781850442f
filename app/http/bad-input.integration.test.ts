// Bad input gets a 4xx that names the culprit and changes nothing; never a
// 500, never a secret in the answer. A table of the inputs that once broke
// the API, then generated bodies, queries and headers thrown at every route.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

describe("bad input", () => {
  let proxy: Proxy;
  let key: string;
  let secrets: string[];

  before(async () => {
    proxy = await startProxy();
    key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini"] } })).json.key as string;
    secrets = [MASTER_KEY, key, proxy.pair.appPassword, "sk-upstream-secret"];
  });
  after(() => proxy?.stop());

  const send = (path: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) =>
    fetch(`${proxy.base}${path}`, {
      method: init.method ?? (init.body !== undefined ? "POST" : "GET"),
      headers: { authorization: `Bearer ${MASTER_KEY}`, ...init.headers },
      body: init.body,
    });
  const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { "content-type": "application/json" } });

  const table: Array<{ name: string; path: string; init: Parameters<typeof send>[1]; status: number; names: RegExp }> = [
    {
      name: "a JSON body sent without content-type (curl -d) is refused, not read as empty",
      path: "/key/generate",
      init: {
        body: JSON.stringify({ models: ["gpt-4o-mini"], max_budget: 1 }),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      status: 415,
      names: /content-type/,
    },
    { name: "NUL in team_id", path: "/key/generate", init: json({ team_id: "a\u0000b" }), status: 400, names: /team_id/ },
    { name: "NUL in key_alias", path: "/key/generate", init: json({ key_alias: "a\u0000" }), status: 400, names: /key_alias/ },
    {
      name: "a tpm_limit past a database integer",
      path: "/key/generate",
      init: json({ tpm_limit: 1e12 }),
      status: 400,
      names: /tpm_limit/,
    },
    { name: "NUL in team_alias", path: "/team/new", init: json({ team_alias: "\u0000" }), status: 400, names: /team_alias/ },
    { name: "NUL in a metadata key", path: "/key/generate", init: json({ metadata: { "a\u0000": 1 } }), status: 400, names: /metadata/ },
    {
      name: "NUL in a metadata value",
      path: "/key/generate",
      init: json({ metadata: { a: "x\u0000" } }),
      status: 400,
      names: /metadata\.a/,
    },
    { name: "NUL in ?team_id=", path: "/team/info?team_id=a%00b", init: {}, status: 400, names: /team_id/ },
    { name: "NUL in ?request_id=", path: "/spend/logs?request_id=a%00b", init: {}, status: 400, names: /request_id/ },
    {
      name: "NUL in a chat message",
      path: "/v1/chat/completions",
      init: json({ model: "gpt-4o-mini", messages: [{ role: "user", content: "a\u0000" }] }),
      status: 400,
      names: /messages\.0\.content/,
    },
    {
      name: "a chat body that is a JSON string, not an object",
      path: "/v1/chat/completions",
      init: json("hello"),
      status: 400,
      names: /body: malformed JSON/,
    },
    {
      name: "a chat body nested 100k deep",
      path: "/v1/chat/completions",
      init: { body: `{"messages":${"[".repeat(100_000)}${"]".repeat(100_000)}}`, headers: { "content-type": "application/json" } },
      status: 400,
      names: /nested deeper/,
    },
    { name: "a duration past any date", path: "/key/generate", init: json({ duration: "9999999999d" }), status: 400, names: /duration/ },
    {
      name: "metadata nested 100k deep",
      path: "/key/generate",
      init: { body: `{"metadata":${"[".repeat(100_000)}${"]".repeat(100_000)}}`, headers: { "content-type": "application/json" } },
      status: 400,
      names: /nested deeper/,
    },
    {
      name: "a corrupt gzip body",
      path: "/key/generate",
      init: {
        body: gzipSync(Buffer.from('{"models":[]}')).subarray(0, 12),
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
      },
      status: 400,
      names: /body/,
    },
  ];
  for (const row of table) {
    it(`${row.name} → ${row.status} naming it`, async () => {
      const res = await send(row.path, row.init);
      const body = (await res.json()) as { error?: { message?: string } };
      assert.equal(res.status, row.status, JSON.stringify(body));
      assert.match(body.error?.message ?? "", row.names);
    });
  }

  it("with the writer down, a write answers 503 saying the database is unavailable", async () => {
    proxy.pair.primary.stop("fast");
    try {
      const res = await send("/team/new", json({ team_alias: "while-down" }));
      const body = (await res.json()) as { error?: { message?: string } };
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.match(body.error?.message ?? "", /database unavailable/);
    } finally {
      proxy.pair.primary.start();
    }
    // Ready again (the health cycle has seen the writer back) before the next test.
    await eventually(
      async () => (await fetch(`${proxy.base}/health/readiness`)).status,
      (status) => status === 200,
      30_000,
    );
  });

  it("generated bodies, queries and headers at every route: never a 5xx, never a secret in the answer", async () => {
    const routes: Array<[string, string]> = [
      ["POST", "/key/generate"],
      ["POST", "/key/delete"],
      ["GET", "/key/info"],
      ["POST", "/team/new"],
      ["GET", "/team/info"],
      ["GET", "/spend/logs"],
      ["POST", "/v1/chat/completions"],
      ["POST", "/chat/completions"],
      ["GET", "/health/readiness"],
    ];
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const request = fc.record({
      route: fc.constantFrom(...routes),
      body: fc.oneof(
        anyJson.map((v) => JSON.stringify(v)),
        fc
          .dictionary(
            fc.constantFrom(
              "models",
              "max_budget",
              "team_id",
              "key_alias",
              "metadata",
              "duration",
              "keys",
              "team_alias",
              "model",
              "messages",
              "stream",
            ),
            anyJson,
          )
          .map((v) => JSON.stringify(v)),
        fc.string(),
      ),
      query: fc.dictionary(fc.constantFrom("key", "team_id", "api_key", "request_id"), fc.string({ maxLength: 40 })),
      auth: fc.constantFrom(`Bearer ${MASTER_KEY}`, "Bearer sk-nope", "", "Basic abc", `Bearer ${MASTER_KEY}x`),
      contentType: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", ""),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ route: [method, path], body, query, auth, contentType }) => {
        const qs = new URLSearchParams(query).toString();
        const headers: Record<string, string> = {};
        if (auth) headers.authorization = auth;
        if (contentType) headers["content-type"] = contentType;
        const res = await fetch(`${proxy.base}${path}${qs ? `?${qs}` : ""}`, {
          method,
          headers,
          body: method === "POST" ? body : undefined,
        });
        const text = await res.text();
        assert.ok(res.status < 500, `${method} ${path}?${qs} ${JSON.stringify(body).slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`);
        for (const secret of secrets) assert.ok(!text.includes(secret), `a secret in the answer to ${method} ${path}`);
      }),
      { numRuns: 300 },
    );
  });
});
