// general_settings.pass_through_endpoints against a real target server: the request goes as it came
// with the endpoint's headers (the target's key, never the caller's), the answer comes back as the
// target gave it, keys are checked and cost_per_request is charged to the caller.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("pass-through endpoints (general_settings.pass_through_endpoints)", () => {
  let proxy: Proxy;
  let target: Server;
  let key: string;
  const received: Received[] = [];
  const call = (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}, credential = key) =>
    fetch(`${proxy.base}${path}`, {
      method: init.method ?? "POST",
      headers: { authorization: `Bearer ${credential}`, ...init.headers },
      body: init.body,
    });

  before(async () => {
    // The target: records what it gets, answers 201 with a header of its own (418 for /teapot).
    target = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const status = req.url!.includes("teapot") ? 418 : 201;
        res.writeHead(status, { "content-type": "application/json", "x-target": "yes" }).end(JSON.stringify({ results: [1, 2] }));
      });
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    proxy = await startProxy(
      {},
      {
        extraConfig: () => ({
          sections: [
            "general_settings:",
            "  pass_through_endpoints:",
            "    - path: /v1/rerank",
            `      target: ${targetUrl}/rerank`,
            "      headers: {Authorization: Bearer os.environ/FAKE_UPSTREAM_KEY, x-fixed: one}",
            "      cost_per_request: 0.25",
            "    - path: /bria",
            `      target: ${targetUrl}/bria-api/`,
            "      include_subpath: true",
            "      forward_headers: true",
            "    - path: /gone",
            "      target: http://127.0.0.1:9/x",
          ].join("\n"),
        }),
      },
    );
    key = (await proxy.admin("/key/generate", { body: {} })).json.key as string;
  });
  after(async () => {
    await proxy?.stop();
    await new Promise((resolve) => target?.close(resolve));
  });

  it("forwards the request as it came with the endpoint's headers, never the caller's key; relays the target's answer", async () => {
    const res = await call("/v1/rerank", {
      body: "query=plain text, not JSON",
      headers: { "content-type": "text/plain", "x-client": "c" },
    });
    assert.deepEqual([res.status, res.headers.get("x-target"), await res.json()], [201, "yes", { results: [1, 2] }]);
    const got = received.at(-1)!;
    assert.deepEqual([got.method, got.url, got.body], ["POST", "/rerank", "query=plain text, not JSON"]);
    assert.equal(got.headers.authorization, "Bearer sk-upstream-secret");
    assert.equal(got.headers["x-fixed"], "one");
    assert.equal(got.headers["content-type"], "text/plain");
    // forward_headers is off: the client's own headers stay here.
    assert.equal(got.headers["x-client"], undefined);
    assert.ok(!JSON.stringify(got.headers).includes(key));
  });

  it("include_subpath: the path under the endpoint and the query go to the target; forward_headers sends the client's headers", async () => {
    const res = await call("/bria/v1/text-to-image?steps=4", {
      body: '{"prompt":"a cat"}',
      headers: { "content-type": "application/json", "x-client": "c" },
    });
    assert.equal(res.status, 201);
    await res.text();
    const got = received.at(-1)!;
    assert.deepEqual([got.url, got.body, got.headers["x-client"]], ["/bria-api/v1/text-to-image?steps=4", '{"prompt":"a cat"}', "c"]);
    assert.equal(got.headers.authorization, undefined, "the caller's tandem key is never forwarded");
    const teapot = await call("/bria/teapot", { method: "GET" });
    assert.equal(teapot.status, 418, "the target's status comes back as it is");
    await teapot.text();
  });

  it("a call without a valid key is a 401 and reaches no target; an unreachable target is a 502 naming the endpoint", async () => {
    const before = received.length;
    const refused = await call("/v1/rerank", { body: "x" }, "sk-not-a-key");
    assert.equal(refused.status, 401);
    await refused.text();
    assert.equal(received.length, before);
    const gone = await call("/gone", { body: "x" });
    const body = (await gone.json()) as { error: { message: string } };
    assert.equal(gone.status, 502);
    assert.match(body.error.message, /pass-through target of \/gone unreachable/);
  });

  it("cost_per_request is charged to the calling key for each answer under 400", async () => {
    const charged = await proxy.admin("/key/generate", { body: {} });
    const payer = charged.json.key as string;
    for (let i = 0; i < 2; i++) await (await call("/v1/rerank", { body: "q" }, payer)).text();
    const rows = await proxy.spendRows(`api_key=${encodeURIComponent(payer)}`, (r) => r.length === 2);
    assert.deepEqual(
      rows.map((r) => [r.call_type, r.model, r.spend]),
      [
        ["pass_through_endpoint", "/v1/rerank", 0.25],
        ["pass_through_endpoint", "/v1/rerank", 0.25],
      ],
    );
    // The master key passes too (its calls charged to the admin).
    const admin = await call("/v1/rerank", { body: "q" }, MASTER_KEY);
    assert.equal(admin.status, 201);
    await admin.text();
  });
});
