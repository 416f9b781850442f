// LiteLLM's GET /health: each deployment called with its own mode's smallest request against a real
// upstream process (or, with background_health_checks, answered from the loop's last run), the
// failures with their errors and never the upstream key; GET /routes and the authenticated readiness.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, MASTER_KEY, modelEntry, startProxy, type Proxy } from "../test-support/proxy.js";

type Endpoint = { model: string; model_name: string; model_id: string; mode?: string; api_base?: string; error?: string };
type HealthAnswer = { healthy_endpoints: Endpoint[]; unhealthy_endpoints: Endpoint[]; healthy_count: number; unhealthy_count: number };

const HEALTH_PROMPT = "What's 1 + 1?";

describe("deployment health checks (GET /health)", () => {
  let proxy: Proxy;
  let background: Proxy;
  const health = async (base: string, query = "", key = MASTER_KEY) => {
    const res = await fetch(`${base}/health${query}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as HealthAnswer };
  };
  const names = (endpoints: Endpoint[]) => endpoints.map((e) => e.model_name).sort();
  const byName = (endpoints: Endpoint[], name: string) => endpoints.find((e) => e.model_name === name);
  const models = (url: string) => [
    ...modelEntry("embedder", "echo", url, { id: "embedder-1", mode: "embedding" }),
    ...modelEntry("painter", "gpt-image-1", url, { id: "painter-1", mode: "image_generation" }),
    // Waits up to 30 s for an answer on a request, 1 s on a health call.
    ...modelEntry("hung-health", "hang", url, { id: "hung-health-1", timeout: 30 }),
    "      health_check_timeout: 1",
    "  - model_name: sagemaker-model",
    "    litellm_params:",
    "      model: sagemaker/berri-benchmarking-Llama-2-70b-chat-hf-4",
  ];

  before(async () => {
    proxy = await startProxy({}, { extraConfig: (url) => ({ models: models(url) }) });
    background = await startProxy(
      {},
      {
        pair: proxy.pair,
        extraConfig: (url) => ({
          models: modelEntry("only", "echo", url, { id: "only-1" }),
          sections: ["general_settings:", "  background_health_checks: true", "  health_check_interval: 3600"].join("\n"),
        }),
      },
    );
  });
  after(async () => {
    await background?.stop();
    await proxy?.stop();
  });

  it("calls every deployment with its mode's request: the answering ones healthy, the rest unhealthy with the error", async () => {
    const { status, json, text } = await health(proxy.base);
    assert.equal(status, 200, text);
    assert.deepEqual(names(json.healthy_endpoints), ["embedder", "gpt-4o-mini", "painter", "resetting", "slow-model"]);
    assert.deepEqual(names(json.unhealthy_endpoints), ["hanging", "hung-health", "limited", "sagemaker-model", "unreachable"]);
    assert.deepEqual([json.healthy_count, json.unhealthy_count], [5, 5]);
    assert.match(byName(json.unhealthy_endpoints, "limited")!.error!, /^429: .*Rate limit reached/);
    assert.match(byName(json.unhealthy_endpoints, "unreachable")!.error!, /unreachable/);
    assert.match(byName(json.unhealthy_endpoints, "hanging")!.error!, /timed out after 1s/);
    assert.match(byName(json.unhealthy_endpoints, "sagemaker-model")!.error!, /cannot be served by tandem: .*provider "sagemaker"/);
    // Each mode its own call, as the upstream received them.
    const embed = proxy.upstream.requests.find((r) => r.path === "/embeddings" && r.body.model === "echo");
    assert.deepEqual(embed?.body.input, ["test from litellm"]);
    const image = proxy.upstream.requests.find((r) => r.path === "/images/generations");
    assert.equal(image?.body.model, "gpt-image-1");
    const chat = proxy.upstream.requests.find((r) => r.path === "/chat/completions" && r.body.model === "echo");
    assert.equal((chat?.body.messages as Array<{ content: string }>)[0]!.content, HEALTH_PROMPT);
    assert.equal(byName(json.healthy_endpoints, "embedder")!.mode, "embedding");
    // The admin sees where each deployment is; nobody sees its key.
    assert.equal(byName(json.healthy_endpoints, "gpt-4o-mini")!.api_base, proxy.upstream.url);
    assert.doesNotMatch(text, /sk-upstream-secret/);
  });

  it("bounds a deployment's health call by model_info.health_check_timeout, not by its request timeout", async () => {
    const started = Date.now();
    const { json } = await health(proxy.base, "?model=hung-health");
    assert.deepEqual(names(json.unhealthy_endpoints), ["hung-health"]);
    assert.match(json.unhealthy_endpoints[0]!.error!, /Health check timeout exceeded \(1s\)/);
    // Its requests wait up to 30 s: the answer came long before.
    assert.ok(Date.now() - started < 25_000);
  });

  it("narrows to one model group (?model) or one deployment (?model_id)", async () => {
    const one = await health(proxy.base, "?model=limited");
    assert.deepEqual([names(one.json.healthy_endpoints), names(one.json.unhealthy_endpoints)], [[], ["limited"]]);
    const byId = await health(proxy.base, "?model_id=embedder-1");
    assert.deepEqual([names(byId.json.healthy_endpoints), byId.json.unhealthy_count], [["embedder"], 0]);
  });

  it("shows a key only the deployments of its models, without their addresses; no key is a 401", async () => {
    const key = (await proxy.admin("/key/generate", { body: { models: ["gpt-4o-mini", "limited"] } })).json.key as string;
    const { json } = await health(proxy.base, "", key);
    assert.deepEqual([names(json.healthy_endpoints), names(json.unhealthy_endpoints)], [["gpt-4o-mini"], ["limited"]]);
    assert.equal(json.healthy_endpoints[0]!.api_base, undefined);
    assert.equal((await fetch(`${proxy.base}/health`)).status, 401);
  });

  it("sets tandem_deployment_healthy per deployment from its last call", async () => {
    await health(proxy.base);
    const metrics = await (await fetch(`${proxy.base}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
    assert.match(metrics, /tandem_deployment_healthy\{model_group="embedder",deployment="embedder-1"\} 1/);
    assert.match(metrics, /tandem_deployment_healthy\{model_group="limited",deployment="limited\/2"\} 0/);
  });

  it("with background_health_checks, answers the loop's last run: polling /health calls no deployment", async () => {
    const probes = () => background.upstream.requests.filter((r) => JSON.stringify(r.body).includes(HEALTH_PROMPT)).length;
    // The loop's first run, at start: one call per deployment.
    const first = await eventually(
      async () => (await health(background.base)).json,
      (j) => j.healthy_count > 0,
      30_000,
    );
    assert.ok(
      first.healthy_endpoints.some((e) => e.model_name === "only"),
      JSON.stringify(first),
    );
    const before = probes();
    for (let i = 0; i < 5; i++) await health(background.base);
    assert.equal(probes(), before);
  });

  it("GET /routes lists what the proxy serves with its methods; /health/readiness/details wants a key", async () => {
    const routes = ((await (await fetch(`${proxy.base}/routes`)).json()) as { routes: Array<{ path: string; methods: string[] }> }).routes;
    const has = (path: string, method: string) => routes.some((r) => r.path === path && r.methods.includes(method));
    assert.ok(has("/health", "GET") && has("/key/generate", "POST") && has("/v1/chat/completions", "POST"), JSON.stringify(routes));
    assert.equal((await fetch(`${proxy.base}/health/readiness/details`)).status, 401);
    const details = await fetch(`${proxy.base}/health/readiness/details`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    const body = (await details.json()) as { status: string; litellm_version: string };
    assert.deepEqual([details.status, body.status, typeof body.litellm_version], [200, "healthy", "string"]);
  });
});
