// LiteLLM's Router (simple-shuffle): weighted choice, retries on another
// deployment, fallbacks, cooldown of a failing deployment.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment, RouterSettings } from "../../config/model-config.js";
import {
  ModelNotServed,
  ModelRouter,
  NoDeploymentAvailable,
  NoDeploymentInRegion,
  PromptTooLong,
  type Attempt,
  type RouteOptions,
} from "./model-router.js";

const deployment = (name: string, id: string, weight = 1): Deployment => ({
  id,
  name,
  upstreamModel: id,
  provider: "openai",
  apiBase: `http://${id}/v1`,
  timeoutMs: 1000,
  price: { inputPerToken: 0, outputPerToken: 0, source: "config" },
  weight,
  mode: "chat",
});

function routerWith(groups: Record<string, Deployment[]>, settings: Partial<RouterSettings> = {}, random: () => number = () => 0) {
  let now = 1_000_000;
  const router = new ModelRouter(
    {
      models: new Map(Object.entries(groups)),
      router: { numRetries: 2, timeoutMs: 1000, fallbacks: new Map(), allowedFails: 3, cooldownMs: 5000, ...settings },
    },
    { now: () => now, random },
  );
  return { router, advance: (ms: number) => (now += ms) };
}

/** An attempt function that fails on the listed deployment ids and records every try. */
function upstream(failing: string[], retryable = true) {
  const tries: string[] = [];
  const attempt = async (d: Deployment): Promise<Attempt<string>> => {
    tries.push(d.id);
    return failing.includes(d.id) ? { ok: false, retryable, value: `failed:${d.id}` } : { ok: true, value: `ok:${d.id}` };
  };
  return { tries, attempt };
}

describe("model router", () => {
  it("picks deployments in proportion to their weight", async () => {
    const draws = [0.1, 0.3, 0.5, 0.9];
    let i = 0;
    const { router } = routerWith({ gpt: [deployment("gpt", "a", 1), deployment("gpt", "b", 3)] }, {}, () => draws[i++]!);
    const served = [];
    for (let n = 0; n < draws.length; n++) served.push((await router.route("gpt", upstream([]).attempt)).deployment.id);
    // weights 1:3 → [0, 0.25) is a, [0.25, 1) is b
    assert.deepEqual(served, ["a", "b", "b", "b"]);
  });

  it("a retryable failure is retried on the other deployment, and the client gets its answer", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "down"), deployment("gpt", "up")] });
    const { tries, attempt } = upstream(["down"]);
    const result = await router.route("gpt", attempt);
    assert.deepEqual(tries, ["down", "up"]);
    assert.deepEqual([result.attempt, result.tries], [{ ok: true, value: "ok:up" }, 2]);
  });

  it("retries at most num_retries times, then returns the last failure", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "a"), deployment("gpt", "b")] }, { numRetries: 2, allowedFails: 100 });
    const { tries, attempt } = upstream(["a", "b"]);
    const result = await router.route("gpt", attempt);
    assert.equal(tries.length, 3);
    assert.equal(result.attempt.ok, false);
  });

  it("num_retries 0: one try only", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "a"), deployment("gpt", "b")] }, { numRetries: 0 });
    const { tries, attempt } = upstream(["a", "b"]);
    await router.route("gpt", attempt);
    assert.equal(tries.length, 1);
  });

  it("a non-retryable failure (the request's own fault) is returned at once", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "a"), deployment("gpt", "b")] });
    const { tries, attempt } = upstream(["a", "b"], false);
    const result = await router.route("gpt", attempt);
    assert.deepEqual([tries.length, result.attempt.ok], [1, false]);
  });

  it("after the group's retries, its fallbacks are tried in order", async () => {
    const { router } = routerWith(
      { big: [deployment("big", "big-1")], mid: [deployment("mid", "mid-1")], small: [deployment("small", "small-1")] },
      { numRetries: 1, fallbacks: new Map([["big", ["mid", "small"]]]) },
    );
    const { tries, attempt } = upstream(["big-1", "mid-1"]);
    const result = await router.route("big", attempt);
    assert.deepEqual(tries, ["big-1", "big-1", "mid-1", "mid-1", "small-1"]);
    assert.equal(result.deployment.name, "small");
  });

  it("more than allowed_fails failures in a minute cool a deployment down; it gets no traffic until cooldown_time has passed", async () => {
    const { router, advance } = routerWith(
      { gpt: [deployment("gpt", "down"), deployment("gpt", "up")] },
      { allowedFails: 1, cooldownMs: 5000, numRetries: 1 },
    );
    const first = upstream(["down"]);
    await router.route("gpt", first.attempt);
    await router.route("gpt", first.attempt);
    assert.deepEqual(first.tries, ["down", "up", "down", "up"], "random() = 0 picks 'down' first while it is up");
    assert.deepEqual(router.coolingDown(), [{ id: "down", untilMs: 1_000_000 + 5000 }]);

    const cooling = upstream(["down"]);
    await router.route("gpt", cooling.attempt);
    assert.deepEqual(cooling.tries, ["up"], "skipped while cooling");

    advance(5000);
    const back = upstream([]);
    await router.route("gpt", back.attempt);
    assert.deepEqual(back.tries, ["down"], "back after the cooldown");
  });

  it("failures older than a minute do not count towards a cooldown", async () => {
    const { router, advance } = routerWith({ gpt: [deployment("gpt", "a"), deployment("gpt", "b")] }, { allowedFails: 1, numRetries: 0 });
    await router.route("gpt", upstream(["a"]).attempt);
    advance(61_000);
    await router.route("gpt", upstream(["a"]).attempt);
    assert.deepEqual(router.coolingDown(), []);
  });

  it("a group's only deployment is never cooled down (as in LiteLLM)", async () => {
    const { router } = routerWith({ solo: [deployment("solo", "only")] }, { allowedFails: 0 });
    for (let i = 0; i < 3; i++) await router.route("solo", upstream(["only"]).attempt);
    assert.deepEqual(router.coolingDown(), []);
  });

  it("every deployment cooling down → NoDeploymentAvailable with the time until the first is back", async () => {
    const { router, advance } = routerWith(
      { gpt: [deployment("gpt", "a"), deployment("gpt", "b")] },
      { allowedFails: 0, cooldownMs: 5000, numRetries: 1 },
    );
    await router.route("gpt", upstream(["a", "b"]).attempt);
    advance(1000);
    await assert.rejects(
      router.route("gpt", upstream([]).attempt),
      (error: unknown) => error instanceof NoDeploymentAvailable && error.model === "gpt" && error.retryAfterMs === 4000,
    );
  });

  it("a deployment at its rpm/tpm limit is skipped for another: neither a try nor a failure", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "capped"), deployment("gpt", "open")] }, { allowedFails: 0, numRetries: 0 });
    const called: string[] = [];
    const result = await router.route("gpt", async (d): Promise<Attempt<string>> => {
      if (d.id === "capped") return { ok: false, retryable: true, busy: { retryAfterMs: 3000 } };
      called.push(d.id);
      return { ok: true, value: d.id };
    });
    assert.deepEqual([result.deployment.id, result.tries, called], ["open", 1, ["open"]]);
    assert.deepEqual(router.coolingDown(), [], "a busy deployment is not cooled down");
  });

  it("every deployment at its limit → NoDeploymentAvailable saying so, with the soonest retry", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "a"), deployment("gpt", "b")] }, { numRetries: 2 });
    await assert.rejects(
      router.route("gpt", async (d): Promise<Attempt<string>> => ({
        ok: false,
        retryable: true,
        busy: { retryAfterMs: d.id === "a" ? 5000 : 2000 },
      })),
      (error: unknown) => error instanceof NoDeploymentAvailable && error.why === "at its rpm/tpm limit" && error.retryAfterMs === 2000,
    );
  });
});

describe('wildcard model groups (LiteLLM\'s model_name: "*" / "anthropic/*")', () => {
  const wild = (name: string, id: string, upstreamModel: string, provider = "openai"): Deployment => ({
    ...deployment(name, id),
    upstreamModel,
    provider,
    price: { inputPerToken: 0, outputPerToken: 0, source: "unknown" },
  });
  const { router } = routerWith({
    "gpt-4o-mini": [deployment("gpt-4o-mini", "exact")],
    "*": [wild("*", "any", "*")],
    "anthropic/*": [wild("anthropic/*", "claude-any", "*", "anthropic")],
  });

  it("a configured name wins over every pattern", () => {
    assert.deepEqual(
      router.deployments("gpt-4o-mini").map((d) => d.id),
      ["exact"],
    );
  });

  it("the most specific pattern wins, and its * is replaced by what it matched", () => {
    const [claude] = router.deployments("anthropic/claude-3-5-sonnet-20241022");
    assert.deepEqual(
      [claude?.id, claude?.name, claude?.upstreamModel, claude?.provider],
      ["claude-any", "anthropic/claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022", "anthropic"],
    );
    assert.deepEqual(
      router.deployments("gpt-4.1").map((d) => [d.id, d.upstreamModel]),
      [["any", "gpt-4.1"]],
    );
  });

  it("a concrete model is priced from the price database", () => {
    const [claude] = router.deployments("anthropic/claude-3-5-sonnet-20241022");
    assert.deepEqual([claude?.price.source, claude?.price.inputPerToken], ["genai-prices", 3e-6]);
  });

  it("has() knows the names a pattern matches", () => {
    assert.equal(router.has("anything-at-all"), true);
    assert.equal(routerWith({ a: [deployment("a", "a")] }).router.has("b"), false);
  });
});

describe("an end user's allowed_model_region (litellm_params.region_name)", () => {
  const inRegion = (name: string, id: string, region?: string): Deployment => ({ ...deployment(name, id), ...(region ? { region } : {}) });
  const groups = {
    gpt: [inRegion("gpt", "eu-1", "eu"), inRegion("gpt", "us-1", "us"), inRegion("gpt", "nowhere")],
    "gpt-us": [inRegion("gpt-us", "us-2", "us")],
    "gpt-eu-backup": [inRegion("gpt-eu-backup", "eu-2", "eu")],
  };
  const cases: Array<[string, string, string | undefined, string[], string[] | "no deployment"]> = [
    ["no region: any deployment", "gpt", undefined, [], ["eu-1", "us-1", "nowhere"]],
    ["eu: only the eu deployment", "gpt", "eu", [], ["eu-1"]],
    ["us: only the us deployment", "gpt", "us", [], ["us-1"]],
    ["a deployment without region_name is never in a region", "gpt", "ap", [], "no deployment"],
    ["a group with no deployment there, and no fallback", "gpt-us", "eu", [], "no deployment"],
    ["a fallback in the region serves when the group has none there", "gpt-us", "eu", ["gpt-eu-backup"], ["eu-2"]],
  ];
  for (const [name, model, region, fallbacks, expected] of cases) {
    it(name, async () => {
      const served = new Set<string>();
      const draws = [0, 0.34, 0.67, 0.99];
      for (const draw of draws) {
        const { router } = routerWith(groups, { fallbacks: new Map([[model, fallbacks]]) }, () => draw);
        try {
          served.add((await router.route(model, upstream([]).attempt, region ? { region } : {})).deployment.id);
        } catch (error) {
          assert.ok(error instanceof NoDeploymentInRegion, String(error));
          assert.equal(expected, "no deployment");
          return;
        }
      }
      assert.notEqual(expected, "no deployment");
      assert.deepEqual([...served].sort(), [...(expected as string[])].sort());
    });
  }

  it("a retry stays in the region: the other region's deployment is never tried", async () => {
    const { router } = routerWith(groups);
    const { tries, attempt } = upstream(["eu-1"]);
    const result = await router.route("gpt", attempt, { region: "eu" });
    assert.ok(tries.every((id) => id === "eu-1"));
    assert.equal(result.attempt.ok, false);
  });
});

describe("fallbacks, as LiteLLM's router chooses them", () => {
  const groups = {
    small: [deployment("small", "s1"), deployment("small", "s2")],
    large: [deployment("large", "l1")],
    safe: [deployment("safe", "p1")],
    other: [deployment("other", "o1")],
  };
  type How = "retryable" | "final" | "context_window" | "content_policy" | "mock";
  /** Fails every listed deployment the listed way; answers on the rest. */
  const failing = (how: Record<string, How>) => {
    const tries: string[] = [];
    const attempt = async (d: Deployment): Promise<Attempt<string>> => {
      tries.push(d.id);
      const kind = how[d.id];
      if (!kind) return { ok: true, value: d.id };
      if (kind === "retryable") return { ok: false, retryable: true };
      if (kind === "final") return { ok: false, retryable: false };
      if (kind === "mock") return { ok: false, retryable: false, fallback: "general", cooldown: false };
      return { ok: false, retryable: false, fallback: kind };
    };
    return { tries, attempt };
  };
  const settings: Partial<RouterSettings> = {
    fallbacks: new Map([
      ["small", ["large"]],
      ["*", ["other"]],
    ]),
    contextWindowFallbacks: new Map([["small", ["large"]]]),
    contentPolicyFallbacks: new Map([["small", ["safe"]]]),
  };
  const cases: Array<[string, string, Record<string, How>, RouteOptions, { answered: string | null; tries: string[]; fallbacks: number }]> =
    [
      [
        "a group that fails after its retries goes to its fallbacks",
        "small",
        { s1: "retryable", s2: "retryable" },
        {},
        { answered: "l1", tries: ["s1", "s2", "s1", "l1"], fallbacks: 1 },
      ],
      [
        "the request's own fallbacks replace the config's",
        "small",
        { s1: "retryable", s2: "retryable" },
        { fallbacks: ["safe"], numRetries: 0 },
        { answered: "p1", tries: ["s1", "p1"], fallbacks: 1 },
      ],
      [
        "a group without fallbacks of its own takes the default ones (`*`)",
        "safe",
        { p1: "retryable" },
        { numRetries: 0 },
        { answered: "o1", tries: ["p1", "o1"], fallbacks: 1 },
      ],
      [
        "a prompt too long is not retried: it goes to context_window_fallbacks",
        "small",
        { s1: "context_window" },
        {},
        { answered: "l1", tries: ["s1", "l1"], fallbacks: 1 },
      ],
      [
        "content refused goes to content_policy_fallbacks",
        "small",
        { s1: "content_policy" },
        {},
        { answered: "p1", tries: ["s1", "p1"], fallbacks: 1 },
      ],
      [
        "a prompt too long for a group without context_window_fallbacks takes its general ones",
        "safe",
        { p1: "context_window" },
        {},
        { answered: "o1", tries: ["p1", "o1"], fallbacks: 1 },
      ],
      [
        "the request's own fault is final: no retry, no fallback",
        "small",
        { s1: "final" },
        {},
        { answered: null, tries: ["s1"], fallbacks: 0 },
      ],
      [
        "a mocked failure (mock_testing_fallbacks) goes to the fallbacks without a retry",
        "small",
        { s1: "mock", s2: "mock" },
        {},
        { answered: "l1", tries: ["s1", "l1"], fallbacks: 1 },
      ],
      [
        "fallbacks are tried in order until one answers",
        "small",
        { s1: "retryable", s2: "retryable", l1: "retryable" },
        { fallbacks: ["large", "other"], numRetries: 0 },
        { answered: "o1", tries: ["s1", "l1", "o1"], fallbacks: 2 },
      ],
      [
        "every fallback failing leaves the last failure, after all of them",
        "small",
        { s1: "retryable", s2: "retryable", l1: "retryable" },
        { numRetries: 0 },
        { answered: null, tries: ["s1", "l1"], fallbacks: 1 },
      ],
    ];
  for (const [name, model, how, options, expected] of cases) {
    it(name, async () => {
      const { router } = routerWith(groups, settings);
      const { tries, attempt } = failing(how);
      const result = await router.route(model, attempt, options);
      assert.deepEqual({ answered: result.attempt.ok ? result.deployment.id : null, tries, fallbacks: result.fallbacks }, expected);
    });
  }

  it("retries are counted in the group that answered; the group's limit is the request's, else its deployment's, else the config's", async () => {
    const withOwn = { small: [{ ...deployment("small", "s1"), numRetries: 50 }, deployment("small", "s2")], large: groups.large };
    const { router } = routerWith(withOwn, { numRetries: 5 });
    const once = { s1: "retryable" as How };
    const first = await router.route("small", failing(once).attempt);
    assert.deepEqual([first.retries, first.maxRetries], [1, 50]);
    assert.equal((await router.route("small", failing({}).attempt, { numRetries: 3 })).maxRetries, 3);
    assert.equal((await router.route("large", failing({}).attempt)).maxRetries, 5);
  });

  it("a mocked failure never cools the deployment down", async () => {
    const { router } = routerWith(groups, { ...settings, allowedFails: 0 });
    await router.route("small", failing({ s1: "mock", s2: "mock" }).attempt);
    assert.deepEqual(router.coolingDown(), []);
  });

  it("an alias (model_group_alias) is routed as its group", async () => {
    const { router } = routerWith(groups, { aliases: new Map([["my-alias", "large"]]) });
    assert.ok(router.has("my-alias"));
    assert.equal((await router.route("my-alias", failing({}).attempt)).deployment.id, "l1");
  });

  it("a group tandem cannot serve answers why; as a fallback it is passed over", async () => {
    const unserved = [
      { id: "x", name: "elsewhere", model: "sagemaker/m", provider: "sagemaker", reason: "provider sagemaker is not served" },
    ];
    const router = new ModelRouter({
      models: new Map(Object.entries(groups)),
      unserved,
      router: {
        numRetries: 0,
        timeoutMs: 1000,
        fallbacks: new Map([["small", ["elsewhere", "large"]]]),
        allowedFails: 3,
        cooldownMs: 5000,
      },
    });
    assert.ok(router.has("elsewhere") && router.modelNames().includes("elsewhere"));
    await assert.rejects(
      router.route("elsewhere", failing({}).attempt),
      (e: unknown) => e instanceof ModelNotServed && /sagemaker/.test(e.message),
    );
    const { tries, attempt } = failing({ s1: "retryable", s2: "retryable" });
    const result = await router.route("small", attempt);
    assert.deepEqual([tries.at(-1), result.fallbacks], ["l1", 2]);
  });
});

describe("enable_pre_call_checks: a prompt longer than a deployment's max_input_tokens is not sent to it", () => {
  const sized = (name: string, id: string, maxInputTokens?: number): Deployment => ({
    ...deployment(name, id),
    ...(maxInputTokens !== undefined ? { maxInputTokens } : {}),
  });
  const groups = {
    mixed: [sized("mixed", "tiny", 100), sized("mixed", "roomy", 10_000)],
    small: [sized("small", "s1", 100), sized("small", "s2", 200)],
    large: [sized("large", "l1", 100_000)],
    unsized: [sized("unsized", "u1")],
  };
  const cases: Array<{ name: string; model: string; tokens: number; checks?: boolean; tried: string[]; fallbacks?: number }> = [
    { name: "a deployment too small is skipped for one that fits", model: "mixed", tokens: 500, tried: ["roomy"] },
    { name: "a prompt that fits goes to any deployment", model: "mixed", tokens: 50, tried: ["tiny"] },
    {
      name: "none of the group fits: its context_window_fallbacks answer, nothing of it called",
      model: "small",
      tokens: 500,
      tried: ["l1"],
      fallbacks: 1,
    },
    { name: "a deployment of unknown size is not skipped", model: "unsized", tokens: 1_000_000, tried: ["u1"] },
    { name: "without enable_pre_call_checks nothing is skipped", model: "small", tokens: 500, checks: false, tried: ["s1"] },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const router = routerWith(groups, {
        preCallChecks: c.checks ?? true,
        contextWindowFallbacks: new Map([["small", ["large"]]]),
      }).router;
      const { tries, attempt } = upstream([]);
      const routed = await router.route(c.model, attempt, { promptTokens: c.tokens });
      assert.deepEqual([tries, routed.fallbacks], [c.tried, c.fallbacks ?? 0]);
    });

  it("no group fits, fallbacks included: PromptTooLong with the largest window, and no call", async () => {
    const router = routerWith(groups, { preCallChecks: true }).router;
    const { tries, attempt } = upstream([]);
    await assert.rejects(
      router.route("small", attempt, { promptTokens: 500 }),
      (e: unknown) => e instanceof PromptTooLong && e.maxInputTokens === 200 && e.promptTokens === 500,
    );
    assert.deepEqual(tries, []);
  });
});

describe("routing strategies through the router", () => {
  it("least-busy: a deployment whose answer is still being relayed is passed over until the request ends", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "a"), deployment("gpt", "b")] }, { strategy: "least-busy" });
    const { attempt } = upstream([]);
    const first = await router.route("gpt", attempt);
    const second = await router.route("gpt", attempt);
    assert.notEqual(first.deployment.id, second.deployment.id);
    router.ended(first.deployment, 10);
    assert.equal((await router.route("gpt", attempt)).deployment.id, first.deployment.id);
  });

  it("a retryable failure ends its call at once: the failed deployment is not left counted as busy", async () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "down"), deployment("gpt", "up")] }, { strategy: "least-busy", numRetries: 1 });
    const routed = await router.route("gpt", upstream(["down"]).attempt);
    assert.equal(routed.deployment.id, "up");
    router.ended(routed.deployment, 0);
    // Both idle again: the tie goes by weight (the draw 0 picks the first).
    assert.equal((await router.route("gpt", upstream([]).attempt)).deployment.id, "down");
  });
});

describe("a request pinned to one deployment (it continues a response that deployment keeps)", () => {
  const groups = { gpt: [deployment("gpt", "a"), deployment("gpt", "b"), deployment("gpt", "c")], other: [deployment("other", "o")] };
  const cases: Array<[string, string, string | undefined, string[]]> = [
    ["every draw of the group goes to the pinned deployment", "gpt", "b", ["b"]],
    ["a deployment the group does not have pins nothing", "other", "b", ["o"]],
    ["no pin: the group's deployments share it", "gpt", undefined, ["a", "b", "c"]],
  ];
  for (const [name, model, deploymentId, expected] of cases)
    it(name, async () => {
      const served = new Set<string>();
      for (const draw of [0, 0.4, 0.8]) {
        const { router } = routerWith(groups, {}, () => draw);
        served.add((await router.route(model, upstream([]).attempt, deploymentId ? { deploymentId } : {})).deployment.id);
      }
      assert.deepEqual([...served].sort(), expected);
    });
  it("a pinned deployment that fails is retried on itself, never on another", async () => {
    const { router } = routerWith(groups);
    const { tries, attempt } = upstream(["b"]);
    await router.route("gpt", attempt, { deploymentId: "b" });
    assert.deepEqual(tries, ["b", "b", "b"]);
  });
});

describe("ModelRouter: models kept in the database", () => {
  const stored = (name: string, id: string, extra: Partial<Deployment> = {}): Deployment => ({
    ...deployment(name, id),
    stored: true,
    ...extra,
  });

  it("a stored model joins the group of its name, beside the config file's deployments", () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "file")] });
    router.replaceStored([stored("gpt", "db-1"), stored("new", "db-2")], []);
    assert.deepEqual(
      router.deployments("gpt").map((d) => d.id),
      ["file", "db-1"],
    );
    assert.deepEqual(
      router.deployments("new").map((d) => d.id),
      ["db-2"],
    );
    assert.deepEqual(router.modelNames().sort(), ["gpt", "new"]);
  });

  it("each reload replaces the last: a deleted model is gone, the config file's stay", () => {
    const { router } = routerWith({ gpt: [deployment("gpt", "file")] });
    router.replaceStored([stored("new", "db-2")], []);
    router.replaceStored([], [{ id: "db-3", name: "broken", model: "foo/bar", provider: "foo", reason: "provider foo" }]);
    assert.equal(router.has("new"), false);
    assert.deepEqual(
      router.deployments("gpt").map((d) => d.id),
      ["file"],
    );
    assert.equal(router.has("broken"), true, "an unserved stored model is known, and answers why");
    assert.deepEqual(
      router.unserved("broken").map((u) => u.id),
      ["db-3"],
    );
  });

  it("a stored wildcard serves names it matches", () => {
    const { router } = routerWith({});
    router.replaceStored([{ ...stored("team-*", "wild"), upstreamModel: "*" }], []);
    assert.deepEqual(
      router.deployments("team-x").map((d) => [d.id, d.upstreamModel]),
      [["wild", "x"]],
    );
  });

  it("access groups and a team's own model are read from the deployments", () => {
    const { router } = routerWith({ gpt: [{ ...deployment("gpt", "file"), accessGroups: ["beta"] }] });
    router.replaceStored([stored("mine", "db", { teamId: "t1", accessGroups: ["beta", "team"] })], []);
    assert.deepEqual(router.accessGroupsOf("mine"), ["beta", "team"]);
    assert.deepEqual(router.accessGroups().sort(), ["beta", "team"]);
    assert.equal(router.ownerTeam("mine"), "t1");
    assert.equal(router.ownerTeam("gpt"), undefined);
  });
});
