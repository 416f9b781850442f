// LiteLLM's config format: model_list (load-balanced groups), router and
// litellm settings, general_settings.master_key, os.environ/ references,
// costs; anything tandem does not implement is named, never silently dropped.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ModelConfigError, parseProxyConfig } from "./model-config.js";
import { scrub } from "../observability/secrets.js";

const litellm = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: https://upstream.example.com/v1/
      api_key: os.environ/OPENAI_API_KEY
    model_info:
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
  - model_name: local
    litellm_params:
      model: llama3
      api_base: http://127.0.0.1:8080/v1
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;
const env = { OPENAI_API_KEY: "sk-upstream-key-123", LITELLM_MASTER_KEY: "sk-master-from-config" };

describe("proxy config (LiteLLM's config.yaml)", () => {
  it("reads model_list: upstream model without the provider prefix, api_key from the environment, costs per token", () => {
    const config = parseProxyConfig(litellm, "config.yaml", env);
    assert.deepEqual(config.models.get("gpt-4o-mini"), [
      {
        id: "gpt-4o-mini/0",
        name: "gpt-4o-mini",
        upstreamModel: "gpt-4o-mini",
        provider: "openai",
        apiBase: "https://upstream.example.com/v1",
        apiKey: "sk-upstream-key-123",
        timeoutMs: 600_000,
        price: { inputPerToken: 0.00000015, outputPerToken: 0.0000006, source: "config" },
        rpm: undefined,
        tpm: undefined,
        weight: 1,
        mode: "chat",
        // The price database's context window for the model.
        maxInputTokens: 128_000,
      },
    ]);
    assert.equal(config.models.get("local")?.[0]?.upstreamModel, "llama3");
    assert.deepEqual(config.models.get("local")?.[0]?.price, { inputPerToken: 0, outputPerToken: 0, source: "unknown" });
    assert.ok(
      config.unpriced.some((w) => /model_list\[1\] \(local\): no price for llama3/.test(w)),
      "an unpriced model is named in a startup warning",
    );
    assert.equal(scrub("key sk-upstream-key-123"), "key [REDACTED]", "the resolved upstream key is a registered secret");
  });

  it("api_base may come from the environment too (os.environ/NAME), and is checked once read", () => {
    const text = "model_list:\n  - {model_name: a, litellm_params: {model: openai/a, api_base: os.environ/UPSTREAM_BASE}}\n";
    assert.equal(
      parseProxyConfig(text, "config.yaml", { UPSTREAM_BASE: "http://10.0.0.1:8000/v1/" }).models.get("a")?.[0]?.apiBase,
      "http://10.0.0.1:8000/v1",
    );
    assert.throws(
      () => parseProxyConfig(text, "config.yaml", { UPSTREAM_BASE: "not a url", CONFIG_FILE_STRICT: "true" }),
      /model_list\[0\]\.litellm_params\.api_base must be an http\(s\) URL/,
    );
  });

  it("a master key from an unset variable is not an error by itself (MASTER_KEY may supply it): the reason is kept for when nothing does", () => {
    const config = parseProxyConfig(litellm, "config.yaml", { OPENAI_API_KEY: "x" });
    assert.equal(config.masterKey, undefined);
    assert.equal(
      config.masterKeyProblem,
      "config.yaml: general_settings.master_key reads LITELLM_MASTER_KEY from the environment, which is not set",
    );
  });

  it("general_settings.master_key, from the environment, is the master key (and a registered secret)", () => {
    const config = parseProxyConfig(litellm, "config.yaml", env);
    assert.equal(config.masterKey, "sk-master-from-config");
    assert.equal(scrub("sk-master-from-config"), "[REDACTED]");
  });

  it("a repeated model_name is one group of deployments (load balancing), weighted by weight, rpm or tpm", () => {
    const config = parseProxyConfig(
      `model_list:
  - {model_name: gpt, litellm_params: {model: openai/a, api_base: "http://a/v1", rpm: 600}, model_info: {id: east}}
  - {model_name: gpt, litellm_params: {model: openai/b, api_base: "http://b/v1", weight: 3}}
  - {model_name: gpt, litellm_params: {model: openai/c, api_base: "http://c/v1", tpm: 1000}}
  - {model_name: embed, litellm_params: {model: openai/text-embedding-3-small}, model_info: {mode: embedding}}
`,
      "config.yaml",
      {},
    );
    assert.deepEqual(
      config.models.get("gpt")?.map((d) => [d.id, d.upstreamModel, d.weight]),
      [
        ["east", "a", 600],
        ["gpt/1", "b", 3],
        ["gpt/2", "c", 1000],
      ],
    );
    const embed = config.models.get("embed")?.[0];
    assert.equal(embed?.apiBase, "https://api.openai.com/v1", "openai/ models default to OpenAI's API");
    assert.equal(embed?.mode, "embedding");
  });

  it("router_settings win over litellm_settings; defaults are LiteLLM's (2 retries, 600 s, 3 allowed fails, 5 s cooldown)", () => {
    const defaults = parseProxyConfig("model_list: []", "config.yaml", {}).router;
    assert.deepEqual(defaults, {
      numRetries: 2,
      timeoutMs: 600_000,
      fallbacks: new Map(),
      contextWindowFallbacks: new Map(),
      contentPolicyFallbacks: new Map(),
      aliases: new Map(),
      hiddenAliases: new Set(),
      preCallChecks: false,
      strategy: "simple-shuffle",
      allowedFails: 3,
      cooldownMs: 5000,
    });
    const set = parseProxyConfig(
      `model_list:
  - {model_name: a, litellm_params: {model: a, api_base: "http://x"}}
  - {model_name: b, litellm_params: {model: b, api_base: "http://x"}}
router_settings: {num_retries: 1, timeout: 30, allowed_fails: 0, cooldown_time: 60, fallbacks: [{a: [b]}]}
litellm_settings: {num_retries: 5, request_timeout: 10, drop_params: true}
`,
      "config.yaml",
      {},
    );
    // What router_settings set, over the defaults asserted above.
    assert.deepEqual(set.router, {
      ...defaults,
      numRetries: 1,
      timeoutMs: 30_000,
      fallbacks: new Map([["a", ["b"]]]),
      allowedFails: 0,
      cooldownMs: 60_000,
    });
    assert.equal(set.models.get("a")?.[0]?.timeoutMs, 30_000, "a deployment without its own timeout uses the router's");
    assert.deepEqual(set.warnings, []);
  });

  it("names every section and key it does not implement, once, without failing", () => {
    const config = parseProxyConfig(
      `model_list:
  - {model_name: a, litellm_params: {model: a, api_base: "http://x", max_tokens: 10}, model_info: {supports_vision: true}}
router_settings: {enable_tag_filtering: true, routing_strategy: my-own-routing}
litellm_settings: {callbacks: [langfuse]}
general_settings: {alerting: [slack], database_url: "postgres://x"}
environment_variables: {A: b}
`,
      "config.yaml",
      {},
    );
    assert.deepEqual(config.warnings, [
      "config.yaml: environment_variables is not implemented by tandem and is ignored",
      "config.yaml: router_settings.enable_tag_filtering is not implemented by tandem and is ignored",
      "config.yaml: litellm_settings.callbacks is not implemented by tandem and is ignored",
      "config.yaml: general_settings.alerting is not implemented by tandem and is ignored",
      "config.yaml: router_settings.routing_strategy my-own-routing is not implemented by tandem; simple-shuffle is used",
      "config.yaml: general_settings.database_url is ignored; tandem reads DATABASE_URL",
      "config.yaml: model_list[0].litellm_params.max_tokens is not implemented by tandem and is ignored",
      "config.yaml: model_list[0].model_info.supports_vision is not implemented by tandem and is ignored",
    ]);
  });

  it("default_team_settings: each team with settings is named once, by setting name — never a value (they are credentials)", () => {
    const config = parseProxyConfig(
      `litellm_settings:
  default_team_settings:
    - team_id: team-1
      success_callback: [langfuse]
      langfuse_public_key: pk-lf-visible-in-file
      langfuse_secret: sk-lf-secret-value
    - team_id: team-2
      failure_callback: [langsmith]
    - team_id: team-3
`,
      "config.yaml",
      {},
    );
    assert.deepEqual(config.warnings, [
      "config.yaml: litellm_settings.default_team_settings[0] (team team-1): success_callback, langfuse_public_key, langfuse_secret are not implemented by tandem (no callbacks); the team's requests are served without them",
      "config.yaml: litellm_settings.default_team_settings[1] (team team-2): failure_callback is not implemented by tandem (no callbacks); the team's requests are served without them",
    ]);
    assert.doesNotMatch(config.warnings.join("\n"), /sk-lf-secret-value|pk-lf-visible/);
  });

  it("default_team_settings left empty is no teams; a numeric team_id is read as its string", () => {
    assert.deepEqual(parseProxyConfig("litellm_settings:\n  default_team_settings:\n", "config.yaml", {}).warnings, []);
    const numeric = parseProxyConfig(
      "litellm_settings:\n  default_team_settings: [{team_id: 42, success_callback: [s3]}]\n",
      "config.yaml",
      {},
    );
    assert.match(numeric.warnings.join("\n"), /\(team 42\): success_callback is not implemented/);
  });

  it("default_team_settings that is not a list of teams stops the start, naming where", () => {
    for (const [body, where] of [
      ["default_team_settings: {team_id: t}", /litellm_settings\.default_team_settings/],
      ["default_team_settings: [{success_callback: [langfuse]}]", /litellm_settings\.default_team_settings\[0\]\.team_id/],
    ] as const)
      assert.throws(() => parseProxyConfig(`litellm_settings:\n  ${body}\n`, "config.yaml", {}), where);
  });

  it("an optional setting read from an unset variable is no value, with a warning (LiteLLM's CI config: redis_password without REDIS_PASSWORD)", () => {
    const text =
      "router_settings:\n  redis_host: os.environ/REDIS_HOST\n  redis_port: os.environ/REDIS_PORT\n  redis_password: os.environ/REDIS_PASSWORD\n";
    const config = parseProxyConfig(text, "config.yaml", { REDIS_HOST: "redis.internal", REDIS_PORT: "6379" });
    assert.deepEqual([config.redis?.name, config.redis?.password], ["redis.internal:6379", undefined]);
    assert.deepEqual(config.warnings, [
      "config.yaml: router_settings.redis_password reads REDIS_PASSWORD from the environment, which is not set; read as no value",
    ]);
    assert.throws(
      () => parseProxyConfig(text, "config.yaml", { REDIS_HOST: "redis.internal", REDIS_PORT: "6379", CONFIG_FILE_STRICT: "1" }),
      /router_settings\.redis_password reads REDIS_PASSWORD from the environment, which is not set$/,
    );
  });

  it("LiteLLM's fallback lists, default fallbacks, model_group_alias and per-deployment retries and timeouts", () => {
    const config = parseProxyConfig(
      `model_list:
  - {model_name: small, litellm_params: {model: openai/s, api_base: "http://x", num_retries: 50, stream_timeout: 0.5, mock_timeout: true}}
  - {model_name: large, litellm_params: {model: openai/l, api_base: "http://x"}}
  - {model_name: safe, litellm_params: {model: openai/p, api_base: "http://x"}}
  - {model_name: elsewhere, litellm_params: {model: sagemaker/m}}
litellm_settings:
  context_window_fallbacks: [{small: [large]}]
  content_policy_fallbacks: [{small: [safe]}]
  default_fallbacks: [large]
router_settings:
  fallbacks: [{small: [elsewhere, large]}]
  model_group_alias: {my-alias: small, hidden-alias: {model: large, hidden: true}}
`,
      "config.yaml",
      {},
    );
    const { router } = config;
    assert.deepEqual(
      [router.fallbacks, router.contextWindowFallbacks, router.contentPolicyFallbacks, router.aliases],
      [
        new Map([
          ["small", ["elsewhere", "large"]],
          ["*", ["large"]],
        ]),
        new Map([["small", ["large"]]]),
        new Map([["small", ["safe"]]]),
        new Map([
          ["my-alias", "small"],
          ["hidden-alias", "large"],
        ]),
      ],
      "a fallback may name a group tandem cannot serve (it is skipped when reached)",
    );
    assert.deepEqual([...router.hiddenAliases!], ["hidden-alias"]);
    const small = config.models.get("small")![0]!;
    assert.deepEqual([small.numRetries, small.streamTimeoutMs, small.mockTimeout], [50, 500, true]);
    assert.ok(!config.warnings.some((w) => /not implemented/.test(w)), config.warnings.join("\n"));
  });

  const unservable: Array<[string, string, Record<string, string>, RegExp]> = [
    [
      "a missing environment variable",
      litellm,
      { LITELLM_MASTER_KEY: "x" },
      /^config\.yaml: model_list\[0\]\.litellm_params\.api_key reads OPENAI_API_KEY from the environment, which is not set/,
    ],
    [
      "an Azure deployment without api_base",
      "model_list:\n  - {model_name: a, litellm_params: {model: azure/my-gpt4}}\n",
      {},
      /model_list\[0\]\.litellm_params\.api_base is required for azure\/my-gpt4/,
    ],
    [
      "a self-hosted OpenAI-compatible server without api_base",
      "model_list:\n  - {model_name: a, litellm_params: {model: hosted_vllm/llama}}\n",
      {},
      /model_list\[0\]\.litellm_params\.api_base is required for hosted_vllm\/llama/,
    ],
    [
      "a provider tandem does not serve",
      "model_list:\n  - {model_name: a, litellm_params: {model: sagemaker/my-endpoint}}\n",
      {},
      /model_list\[0\]\.litellm_params\.model "sagemaker\/my-endpoint": provider "sagemaker" is not served by tandem/,
    ],
    [
      "Vertex AI credentials (tandem does not ask a metadata server)",
      "model_list:\n  - {model_name: a, litellm_params: {model: vertex_ai/gemini-pro, vertex_project: p}}\n",
      {},
      /model_list\[0\]\.litellm_params\.vertex_credentials is required for vertex_ai\/gemini-pro .*GOOGLE_APPLICATION_CREDENTIALS/,
    ],
    [
      "a Vertex AI key file that cannot be read",
      "model_list:\n  - {model_name: a, litellm_params: {model: vertex_ai/gemini-pro, vertex_credentials: /nonexistent/key.json}}\n",
      {},
      /vertex_credentials names a file that cannot be read \(ENOENT\)/,
    ],
    [
      "a Vertex AI credential that is not a service account key",
      "model_list:\n  - {model_name: a, litellm_params: {model: vertex_ai/gemini-pro, vertex_credentials: os.environ/VERTEX_KEY}}\n",
      { VERTEX_KEY: '{"type": "authorized_user", "refresh_token": "r"}' },
      /vertex_credentials is a "authorized_user" credential; tandem takes a service account key/,
    ],
    [
      "a Vertex AI project (none given, none in the key)",
      "model_list:\n  - {model_name: a, litellm_params: {model: vertex_ai/gemini-pro, vertex_credentials: os.environ/VERTEX_KEY}}\n",
      { VERTEX_KEY: '{"client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----x"}' },
      /vertex_project is required for vertex_ai\/gemini-pro \(or set VERTEXAI_PROJECT\)/,
    ],
    [
      "a Bedrock access key without its secret",
      "model_list:\n  - {model_name: a, litellm_params: {model: bedrock/m, aws_region_name: eu-west-1, aws_access_key_id: AKID}}\n",
      {},
      /model_list\[0\]\.litellm_params\.aws_access_key_id and aws_secret_access_key go together/,
    ],
    [
      "an Anthropic model for embeddings",
      "model_list:\n  - {model_name: a, litellm_params: {model: anthropic/claude-3-haiku}, model_info: {mode: embedding}}\n",
      {},
      /model_list\[0\]\.model_info\.mode embedding: tandem serves anthropic\/ models for chat only/,
    ],
  ];
  for (const [what, text, env, reason] of unservable) {
    it(`serves the rest of the file without ${what}, saying why in a warning (CONFIG_FILE_STRICT=true refuses it)`, () => {
      const config = parseProxyConfig(text, "config.yaml", env);
      assert.equal(config.unserved.length, 1);
      assert.match(config.unserved[0]!.reason, reason);
      assert.ok(
        config.warnings.some((w) => reason.test(w) && / is not served \(CONFIG_FILE_STRICT=true refuses the start instead\)$/.test(w)),
      );
      assert.throws(
        () => parseProxyConfig(text, "config.yaml", { ...env, CONFIG_FILE_STRICT: "true" }),
        (error: unknown) => error instanceof ModelConfigError && reason.test(error.message),
      );
    });
  }

  it("reads a Bedrock deployment's endpoint and identity (LiteLLM's aws_* params, os.environ/ too); the keys are secrets", () => {
    const text = [
      "model_list:",
      "  - model_name: a",
      "    litellm_params:",
      "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0",
      "      aws_region_name: eu-west-1",
      "      aws_bedrock_runtime_endpoint: https://vpce-1.bedrock-runtime.eu-west-1.vpce.amazonaws.com",
      "      aws_access_key_id: os.environ/BEDROCK_KEY_ID",
      "      aws_secret_access_key: os.environ/BEDROCK_SECRET",
      "      aws_role_name: arn:aws:iam::1:role/r",
      "      aws_session_name: s",
      "  - model_name: b",
      "    litellm_params: {model: bedrock/m, aws_region_name: us-east-1}",
    ].join("\n");
    const config = parseProxyConfig(text, "config.yaml", { BEDROCK_KEY_ID: "AKIDX", BEDROCK_SECRET: "bedrock-secret-value" });
    const a = config.models.get("a")![0]!;
    assert.equal(a.apiBase, "https://vpce-1.bedrock-runtime.eu-west-1.vpce.amazonaws.com");
    assert.deepEqual(a.aws, {
      accessKeyId: "AKIDX",
      secretAccessKey: "bedrock-secret-value",
      roleArn: "arn:aws:iam::1:role/r",
      sessionName: "s",
    });
    const b = config.models.get("b")![0]!;
    assert.deepEqual([b.apiBase, b.aws], ["https://bedrock-runtime.us-east-1.amazonaws.com", undefined]);
    assert.ok(!config.warnings.some((w) => /aws_/.test(w)), config.warnings.join("\n"));
    assert.equal(scrub("leaked bedrock-secret-value"), "leaked [REDACTED]");
  });

  const bad: Array<[string, string, Record<string, string>, RegExp]> = [
    ["invalid YAML", "model_list: [", {}, /^config\.yaml: not valid YAML/],
    [
      "a missing model",
      "model_list:\n  - model_name: a\n    litellm_params:\n      api_base: http://x/v1\n",
      {},
      /^config\.yaml: model_list\[0\]\.litellm_params\.model /,
    ],
    [
      "a negative cost",
      "model_list:\n  - model_name: a\n    litellm_params: {model: a, api_base: 'http://x'}\n    model_info: {input_cost_per_token: -1}\n",
      {},
      /model_list\[0\]\.model_info\.input_cost_per_token/,
    ],
    [
      "a deployment id used twice",
      "model_list:\n  - {model_name: a, litellm_params: {model: a, api_base: 'http://x'}, model_info: {id: d}}\n  - {model_name: a, litellm_params: {model: b, api_base: 'http://y'}, model_info: {id: d}}\n",
      {},
      /model_list\[1\]\.model_info\.id "d" is used twice/,
    ],
    [
      "a fallback to a model group that does not exist",
      "model_list:\n  - {model_name: a, litellm_params: {model: a, api_base: 'http://x'}}\nrouter_settings: {fallbacks: [{a: [gpt-5]}]}\n",
      {},
      /router_settings\.fallbacks\[0\] names "gpt-5", which is not in model_list/,
    ],
    ["num_retries that is not a number", "router_settings: {num_retries: lots}\n", {}, /router_settings\.num_retries/],
  ];
  for (const [what, text, env, message] of bad) {
    it(`refuses ${what} with a message naming the entry`, () => {
      assert.throws(
        () => parseProxyConfig(text, "config.yaml", env),
        (error: unknown) => error instanceof ModelConfigError && message.test(error.message),
      );
    });
  }

  it("router_settings.redis_host / redis_port / redis_password (os.environ/ resolved) name the fleet's Redis", () => {
    const text = "router_settings:\n  redis_host: os.environ/REDIS_HOST\n  redis_port: 6380\n  redis_password: os.environ/REDIS_PASSWORD\n";
    const config = parseProxyConfig(text, "config.yaml", { REDIS_HOST: "cache.internal", REDIS_PASSWORD: "r3dis-secret" });
    assert.deepEqual([config.redis?.name, config.redis?.password], ["cache.internal:6380", "r3dis-secret"]);
    assert.deepEqual(config.warnings, [], "the redis keys are implemented, not warned about");
    assert.equal(scrub("r3dis-secret"), "[REDACTED]", "the password is a registered secret");
  });

  it("litellm_settings.cache with cache_params: ttl, namespace, call types, opt-in mode; the cache's Redis when router_settings names none", () => {
    const text = [
      "litellm_settings:",
      "  cache: true",
      "  cache_params:",
      "    type: redis",
      "    host: os.environ/CACHE_HOST",
      "    port: 6390",
      "    password: os.environ/CACHE_PASSWORD",
      "    ttl: 30",
      "    namespace: litellm.caching",
      "    supported_call_types: [acompletion, embedding]",
      "    mode: default_off",
    ].join("\n");
    const config = parseProxyConfig(text, "config.yaml", { CACHE_HOST: "cache.internal", CACHE_PASSWORD: "c4che-secret" });
    assert.deepEqual(config.cache, { ttlSeconds: 30, namespace: "litellm.caching", callTypes: ["acompletion", "aembedding"], optIn: true });
    assert.deepEqual([config.redis?.name, config.redis?.password], ["cache.internal:6390", "c4che-secret"]);
    assert.deepEqual(config.warnings, []);
  });

  it("litellm_settings.cache: true alone caches every call type for 600 s; no cache without it", () => {
    assert.deepEqual(parseProxyConfig("litellm_settings: {cache: true}\n", "config.yaml", {}).cache, {
      ttlSeconds: 600,
      namespace: "tandem:cache",
      callTypes: ["acompletion", "atext_completion", "aembedding"],
      optIn: false,
    });
    assert.equal(parseProxyConfig("litellm_settings: {cache_params: {ttl: 5}}\n", "config.yaml", {}).cache, undefined);
  });

  it("a cache type tandem does not have (s3, qdrant-semantic, …) is named in a warning", () => {
    const config = parseProxyConfig("litellm_settings: {cache: true, cache_params: {type: s3, s3_bucket_name: b}}\n", "config.yaml", {});
    assert.deepEqual(config.warnings, [
      "config.yaml: litellm_settings.cache_params.s3_bucket_name is not implemented by tandem and is ignored",
      "config.yaml: litellm_settings.cache_params.type s3 is not implemented by tandem; answers are cached in Redis when one is configured, else in each pod's memory",
    ]);
  });

  it("a redis_password without redis_host is refused, naming both", () => {
    assert.throws(
      () => parseProxyConfig("router_settings: {redis_password: x}\n", "config.yaml", {}),
      /config\.yaml: router_settings\.redis_password is set but config\.yaml: router_settings\.redis_host is not/,
    );
  });

  it("model_info.base_model prices and sizes a deployment named otherwise (Azure); max_input_tokens wins; enable_pre_call_checks", () => {
    const config = parseProxyConfig(
      `model_list:
  - {model_name: azure-gpt, litellm_params: {model: azure/my-deployment, api_base: "https://x.openai.azure.com"}, model_info: {base_model: azure/gpt-4o}}
  - {model_name: plain, litellm_params: {model: openai/gpt-4o, api_base: "http://x"}}
  - {model_name: sized, litellm_params: {model: openai/gpt-4o, api_base: "http://x"}, model_info: {max_input_tokens: 1000}}
  - {model_name: unknown, litellm_params: {model: openai/my-own-model, api_base: "http://x"}}
router_settings: {enable_pre_call_checks: true}
`,
      "config.yaml",
      {},
    );
    const [azure, plain, sized, unknown] = ["azure-gpt", "plain", "sized", "unknown"].map((name) => config.models.get(name)![0]!);
    assert.equal(azure!.price.source, "genai-prices");
    assert.deepEqual([azure!.price.inputPerToken, azure!.maxInputTokens], [plain!.price.inputPerToken, plain!.maxInputTokens]);
    assert.equal(plain!.maxInputTokens, 128_000);
    assert.deepEqual([sized!.maxInputTokens, unknown!.maxInputTokens], [1000, undefined]);
    assert.equal(config.router.preCallChecks, true);
  });

  it("routing_strategy: LiteLLM's strategies by name, with routing_strategy_args.lowest_latency_buffer; simple-shuffle by default", () => {
    const strategy = (settings: string) => parseProxyConfig(`router_settings: ${settings}\n`, "config.yaml", {}).router;
    assert.equal(strategy("{}").strategy, "simple-shuffle");
    for (const name of ["least-busy", "usage-based-routing-v2", "latency-based-routing", "cost-based-routing"])
      assert.equal(strategy(`{routing_strategy: ${name}}`).strategy, name);
    const latency = strategy("{routing_strategy: latency-based-routing, routing_strategy_args: {lowest_latency_buffer: 0.5, ttl: 60}}");
    assert.deepEqual([latency.strategy, latency.latencyBuffer], ["latency-based-routing", 0.5]);
  });

  it("health checks: on demand by default; background_health_checks, health_check_interval, health_check_details; per deployment health_check_timeout and health_check_model", () => {
    assert.deepEqual(parseProxyConfig(litellm, "config.yaml", env).healthChecks, { background: false, intervalMs: 300_000, details: true });
    const config = parseProxyConfig(
      `${litellm.replace("      output_cost_per_token: 0.0000006", "      output_cost_per_token: 0.0000006\n      health_check_timeout: 2.5\n      health_check_model: openai/gpt-4o")}` +
        "  background_health_checks: true\n  health_check_interval: 60\n  health_check_details: false\n",
      "config.yaml",
      env,
    );
    assert.deepEqual(config.healthChecks, { background: true, intervalMs: 60_000, details: false });
    const deployment = config.models.get("gpt-4o-mini")![0]!;
    assert.deepEqual([deployment.healthCheckTimeoutMs, deployment.healthCheckModel], [2500, "openai/gpt-4o"]);
    assert.deepEqual(config.warnings, []);
    assert.throws(
      () => parseProxyConfig(`${litellm}  health_check_interval: -1\n`, "config.yaml", env),
      /config\.yaml: general_settings\.health_check_interval Too small/,
    );
  });
});

describe("providers tandem serves", () => {
  const base = (model: string, extra = "") =>
    parseProxyConfig(`model_list:\n  - {model_name: a, litellm_params: {model: ${model}${extra}}}\n`, "config.yaml", {}).models.get(
      "a",
    )?.[0];
  it("a hosted OpenAI-compatible service is reached at its own address unless api_base says otherwise", () => {
    assert.deepEqual(
      ["groq/llama-3.1-8b-instant", "deepseek/deepseek-chat", "openai/gpt-4o", "anthropic/claude-3-5-haiku"].map((m) => base(m)?.apiBase),
      ["https://api.groq.com/openai/v1", "https://api.deepseek.com/v1", "https://api.openai.com/v1", "https://api.anthropic.com"],
    );
    assert.equal(base("groq/llama-3.1-8b-instant", ", api_base: 'http://proxy.local/v1'")?.apiBase, "http://proxy.local/v1");
  });
  it("an OpenAI entry without api_base takes OPENAI_BASE_URL or OPENAI_API_BASE, as LiteLLM's OpenAI client does", () => {
    const text =
      "model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o}}\n  - {model_name: b, litellm_params: {model: groq/llama}}\n";
    const config = parseProxyConfig(text, "config.yaml", { OPENAI_API_BASE: "http://gateway.internal/v1" });
    assert.deepEqual(
      [config.models.get("a")?.[0]?.apiBase, config.models.get("b")?.[0]?.apiBase],
      ["http://gateway.internal/v1", "https://api.groq.com/openai/v1"],
    );
  });
  it("bedrock takes its region from aws_region_name (or AWS_REGION) and its address from the region", () => {
    const d = base("bedrock/anthropic.claude-3-haiku-20240307-v1:0", ", aws_region_name: eu-central-1");
    assert.deepEqual([d?.awsRegion, d?.apiBase], ["eu-central-1", "https://bedrock-runtime.eu-central-1.amazonaws.com"]);
  });
  it("vertex_ai takes its project and location from the entry, else VERTEXAI_PROJECT / VERTEXAI_LOCATION, else the key and us-central1; the key is a secret", () => {
    const key = JSON.stringify({
      type: "service_account",
      project_id: "from-key",
      client_email: "sa@from-key.iam.gserviceaccount.com",
      private_key: "-----BEGIN PRIVATE KEY-----\nvertex-private-key-body\n-----END PRIVATE KEY-----\n",
    });
    const text = [
      "model_list:",
      "  - {model_name: a, litellm_params: {model: vertex_ai/gemini-2.0-flash, vertex_credentials: os.environ/KEY, vertex_project: p1, vertex_location: europe-west4}}",
      "  - {model_name: b, litellm_params: {model: vertex_ai/gemini-2.0-flash, vertex_credentials: os.environ/KEY}}",
      "  - {model_name: c, litellm_params: {model: vertex_ai/gemini-2.0-flash, vertex_credentials: os.environ/KEY, vertex_location: global}}",
    ].join("\n");
    const config = parseProxyConfig(text, "config.yaml", { KEY: key });
    const [a, b, c] = ["a", "b", "c"].map((name) => config.models.get(name)![0]!);
    assert.deepEqual(
      [a!.vertex!.project, a!.vertex!.location, a!.apiBase],
      ["p1", "europe-west4", "https://europe-west4-aiplatform.googleapis.com"],
    );
    assert.deepEqual([b!.vertex!.project, b!.vertex!.location], ["from-key", "us-central1"]);
    assert.equal(c!.apiBase, "https://aiplatform.googleapis.com");
    assert.equal(a!.vertex!.key.token_uri, "https://oauth2.googleapis.com/token");
    assert.equal(a!.price.source, "genai-prices", "priced from Google's list");
    assert.ok(!scrub(`leaked ${a!.vertex!.key.private_key}`).includes("vertex-private-key-body"), "the private key is a registered secret");
    const fromEnv = parseProxyConfig(text, "config.yaml", {
      KEY: key,
      VERTEXAI_PROJECT: "env-project",
      VERTEXAI_LOCATION: "asia-northeast1",
    });
    assert.deepEqual(
      [fromEnv.models.get("b")![0]!.vertex!.project, fromEnv.models.get("b")![0]!.vertex!.location],
      ["env-project", "asia-northeast1"],
    );
  });

  it("azure takes api_version, else the GA default", () => {
    assert.equal(base("azure/dep", ", api_base: 'https://x.openai.azure.com'")?.apiVersion, "2024-10-21");
    assert.equal(
      base("azure/dep", ", api_base: 'https://x.openai.azure.com', api_version: 2025-01-01-preview")?.apiVersion,
      "2025-01-01-preview",
    );
  });
});
