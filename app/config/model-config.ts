import { readFileSync } from "node:fs";
import { retentionSettings, type RetentionSettings } from "./retention.js";
import { parse } from "yaml";
import { z } from "zod";
import { DefaultTeamSettings, teamSettingsWarnings } from "./team-settings.js";
import { redisConfig, RedisConfigError, type RedisConfig } from "./redis.js";
import { parseDuration } from "../services/admin/durations.js";
import { contextWindow, resolvePrice, type Price } from "./prices.js";
import { ROUTING_STRATEGIES, type RoutingStrategy } from "./routing-strategies.js";
import { PassThroughEntry, passThroughEndpoints, type PassThroughEndpoint } from "./pass-through.js";
import { AZURE_DEFAULT_API_VERSION, chatOnly, defaultApiBase, PROVIDERS } from "./providers.js";
import { registerSecret } from "../observability/secrets.js";
import { fieldPath } from "./field-path.js";
import { serviceAccountKey, type ServiceAccountKey } from "./google-key.js";

/** One `model_list` entry: a deployment of the model group clients name as `model`. */
/** litellm_params' AWS identity: static keys (else the default chain), then a role assumed with them. */
export interface AwsIdentity {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  roleArn?: string;
  sessionName?: string;
  stsEndpoint?: string;
}

export interface Deployment {
  /** model_info.id, or `<model_name>/<index in model_list>`. */
  id: string;
  /** The model group (model_name) clients ask for. */
  name: string;
  /** For a name only a wildcard group matched: that group's pattern (metrics are labelled by it, not by names clients choose). */
  pattern?: string;
  /** The model name the upstream expects (LiteLLM's `provider/model` without the provider). */
  upstreamModel: string;
  /** LiteLLM's provider prefix (`openai` when there is none). */
  provider: string;
  /** Azure's api-version (litellm_params.api_version, else AZURE_API_VERSION, else a GA default). */
  apiVersion?: string;
  /** Bedrock's region (litellm_params.aws_region_name, else AWS_REGION). */
  awsRegion?: string;
  /** Bedrock's identity when not the default credential chain's: keys of its own and/or a role to assume. */
  aws?: AwsIdentity;
  /** Vertex AI's project, location and the service account it calls as. */
  vertex?: { project: string; location: string; key: ServiceAccountKey };
  /** litellm_params.region_name: where it runs, for end users' allowed_model_region. */
  region?: string;
  apiBase: string;
  apiKey?: string;
  timeoutMs: number;
  /** litellm_params.stream_timeout: the bound on a streamed call's wait instead (seconds → ms). */
  streamTimeoutMs?: number;
  /** litellm_params.num_retries: the group's retries, in place of the config's. */
  numRetries?: number;
  /** litellm_params.mock_timeout: every call times out after its timeout (LiteLLM's testing switch). */
  mockTimeout?: true;
  /** What its calls cost: config prices, else the price database's, else none (said at startup). */
  price: Price;
  rpm?: number;
  tpm?: number;
  /** Share of the group's traffic (litellm_params.weight, else rpm, else tpm, else 1). */
  weight: number;
  mode: "chat" | "completion" | "embedding" | "image_generation" | "moderation";
  /**
   * The most prompt tokens it takes (model_info.max_input_tokens, else the context window the price
   * database gives its model or base_model): with enable_pre_call_checks a longer prompt skips it.
   */
  maxInputTokens?: number;
  /** model_info.health_check_timeout: the bound on its health call (seconds → ms), else the default. */
  healthCheckTimeoutMs?: number;
  /** model_info.health_check_model: the concrete model a wildcard deployment's health call asks for. */
  healthCheckModel?: string;
  /** model_info.access_groups: names a key's `models` may list to be allowed this deployment's group. */
  accessGroups?: string[];
  /** model_info.team_id: a team's own model, served only to that team's keys. */
  teamId?: string;
  /** Kept in the database (/model/new), not the config file. */
  stored?: true;
}

/** general_settings' health checks (GET /health): on demand, or by a loop whose last results it answers with. */
export interface HealthCheckSettings {
  /** background_health_checks: every `intervalMs` each pod calls every deployment; GET /health answers the last run. */
  background: boolean;
  /** health_check_interval (seconds → ms), 300 s by default as in LiteLLM. */
  intervalMs: number;
  /** health_check_details: false shows each endpoint's model and error only. */
  details: boolean;
}

/** LiteLLM's defaults: on demand, a 300 s interval once turned on, every detail. */
export const DEFAULT_HEALTH_CHECKS: HealthCheckSettings = { background: false, intervalMs: 300_000, details: true };

/**
 * A model_list entry tandem cannot serve (a provider it does not have, a required setting missing
 * or read from an unset variable). The rest of the file serves; a call to it answers a 400 naming
 * the reason. CONFIG_FILE_STRICT=true refuses the start instead.
 */
export interface Unserved {
  id: string;
  /** The model group (model_name). */
  name: string;
  /** litellm_params.model, as written. */
  model: string;
  provider: string;
  reason: string;
}

/** litellm_settings.max_budget / budget_duration: LiteLLM's global proxy budget. */
export interface ProxyBudgetSettings {
  /** null: no global budget; the proxy's spend is still counted on its row, as LiteLLM does. */
  maxBudget: number | null;
  budgetDuration?: string;
}

/** LiteLLM's router_settings / litellm_settings that tandem implements. */
export interface RouterSettings {
  /** Further tries after a retryable failure, on another deployment where there is one. */
  numRetries: number;
  timeoutMs: number;
  /** model group → groups to try, in order, once its own deployments have failed (`*`: every group's default). */
  fallbacks: Map<string, string[]>;
  /** The same for a prompt longer than the group's context window (context_window_fallbacks). */
  contextWindowFallbacks?: Map<string, string[]>;
  /** The same for content the provider refused (content_policy_fallbacks). */
  contentPolicyFallbacks?: Map<string, string[]>;
  /** router_settings.model_group_alias: a name clients use → the model group that serves it. */
  aliases?: Map<string, string>;
  /** router_settings.routing_strategy (simple-shuffle when absent or one tandem does not have). */
  strategy?: RoutingStrategy;
  /** routing_strategy_args.lowest_latency_buffer: latency-based routing spreads over any within this fraction of the fastest. */
  latencyBuffer?: number;
  /** enable_pre_call_checks: a prompt longer than a deployment's maxInputTokens is not sent to it. */
  preCallChecks?: boolean;
  /** Aliases with `hidden: true`: served, but not listed in /v1/models (LiteLLM's way to keep an old name working). */
  hiddenAliases?: Set<string>;
  /** Retryable failures a deployment may have in a minute; one more cools it down. */
  allowedFails: number;
  cooldownMs: number;
}

/** litellm_settings.cache / cache_params: LiteLLM's exact-match response cache. */
export interface CacheSettings {
  /** How long an answer is kept unless a request says otherwise (cache_params.ttl, seconds). */
  ttlSeconds: number;
  /** Prefix of every cache key (cache_params.namespace). */
  namespace: string;
  /** LiteLLM call types cached (cache_params.supported_call_types). */
  callTypes: string[];
  /** cache_params.mode default_off: only requests that ask (`cache: {"use-cache": true}`) use it. */
  optIn: boolean;
}

export interface ProxyConfig {
  /** model group → its deployments, in file order (a repeated model_name is load balancing). */
  models: Map<string, Deployment[]>;
  /** Entries tandem cannot serve, each named in a warning; their groups answer a 400 saying why. */
  unserved: Unserved[];
  router: RouterSettings;
  /** general_settings.master_key, resolved. */
  masterKey?: string;
  /**
   * Why general_settings.master_key could not be resolved (an unset os.environ/ variable). Not an
   * error by itself: LiteLLM's chart sets PROXY_MASTER_KEY for it, tandem's sets MASTER_KEY, which
   * wins; it stops the start only when no master key comes from anywhere.
   */
  masterKeyProblem?: string;
  /** router_settings.redis_* (os.environ/ resolved); REDIS_URL / REDIS_HOST in the environment win. */
  redis?: RedisConfig;
  /** The response cache, when litellm_settings.cache is true. */
  cache?: CacheSettings;
  /** LiteLLM's global proxy budget (litellm_settings.max_budget > 0, budget_duration). */
  proxyBudget: ProxyBudgetSettings;
  /** general_settings.database_connection_pool_limit (DATABASE_CONNECTION_POOL_LIMIT wins). */
  databasePoolLimit?: number;
  /** general_settings.proxy_batch_write_at, in ms (SPEND_FLUSH_INTERVAL_MS wins). */
  spendFlushIntervalMs?: number;
  /** general_settings.maximum_spend_logs_retention_period / _interval (SPEND_LOGS_RETENTION_* win). */
  spendRetention: RetentionSettings;
  healthChecks: HealthCheckSettings;
  /** general_settings.pass_through_endpoints. */
  passThrough: PassThroughEndpoint[];
  /** general_settings.store_model_in_db (or STORE_MODEL_IN_DB=True): /model/new keeps models in the database. */
  storeModelsInDb?: boolean;
  /** One line per section or key tandem does not implement (logged once at startup). */
  warnings: string[];
  /** One line per deployment with no price from the config or the price database (charged 0; logged once at startup). */
  unpriced: string[];
}

export class ModelConfigError extends Error {
  override name = "ModelConfigError";
}

/** One model_list entry cannot be served; the rest of the file can (refused only under CONFIG_FILE_STRICT). */
export class EntryNotServable extends ModelConfigError {}

/** An os.environ/NAME whose variable is not set. */
class UnsetVariable extends EntryNotServable {}

const OS_ENVIRON = /^os\.environ\/(.+)$/;

const seconds = z.number().positive();
const Fallbacks = z.array(z.record(z.string(), z.array(z.string().min(1))));

export const ModelEntry = z.object({
  model_name: z.string().min(1),
  litellm_params: z
    .object({
      model: z.string().min(1),
      // A URL, or os.environ/NAME naming one (checked once read).
      api_base: z.string().min(1).optional(),
      api_key: z.string().optional(),
      timeout: seconds.optional(),
      stream_timeout: seconds.optional(),
      num_retries: z.number().int().nonnegative().optional(),
      mock_timeout: z.boolean().optional(),
      rpm: z.number().int().positive().optional(),
      tpm: z.number().int().positive().optional(),
      weight: z.number().positive().optional(),
      api_version: z.string().min(1).optional(),
      aws_region_name: z.string().min(1).optional(),
      // Bedrock's own endpoint (a VPC interface endpoint), and the identity it is called as.
      aws_bedrock_runtime_endpoint: z.string().min(1).optional(),
      aws_role_name: z.string().min(1).optional(),
      aws_session_name: z.string().min(1).optional(),
      aws_sts_endpoint: z.string().min(1).optional(),
      aws_access_key_id: z.string().min(1).optional(),
      aws_secret_access_key: z.string().min(1).optional(),
      aws_session_token: z.string().min(1).optional(),
      // Vertex AI: the project and location, and a service account key (its JSON, or a path to it).
      vertex_project: z.string().min(1).optional(),
      vertex_location: z.string().min(1).optional(),
      vertex_credentials: z.string().min(1).optional(),
      // Where the deployment runs ("eu", "us"): end users with an allowed_model_region are served only there.
      region_name: z.string().min(1).optional(),
      // LiteLLM takes a deployment's prices here as well as in model_info.
      input_cost_per_token: z.number().nonnegative().optional(),
      output_cost_per_token: z.number().nonnegative().optional(),
      output_cost_per_image: z.number().nonnegative().optional(),
      cache_read_input_token_cost: z.number().nonnegative().optional(),
      cache_creation_input_token_cost: z.number().nonnegative().optional(),
    })
    .loose(),
  model_info: z
    .object({
      id: z.string().min(1).optional(),
      mode: z.enum(["chat", "completion", "embedding", "image_generation", "moderation"]).default("chat"),
      input_cost_per_token: z.number().nonnegative().optional(),
      output_cost_per_token: z.number().nonnegative().optional(),
      output_cost_per_image: z.number().nonnegative().optional(),
      cache_read_input_token_cost: z.number().nonnegative().optional(),
      cache_creation_input_token_cost: z.number().nonnegative().optional(),
      health_check_timeout: z.number().positive().max(600).optional(),
      // The model it is priced and sized as (an Azure deployment named otherwise: azure/gpt-4o).
      base_model: z.string().min(1).optional(),
      max_input_tokens: z.number().int().positive().optional(),
      health_check_model: z.string().min(1).optional(),
      access_groups: z.array(z.string().min(1)).optional(),
      team_id: z.string().min(1).optional(),
    })
    .loose()
    .default({ mode: "chat" }),
});

const RouterSection = z
  .object({
    num_retries: z.number().int().nonnegative().optional(),
    timeout: seconds.optional(),
    fallbacks: Fallbacks.optional(),
    context_window_fallbacks: Fallbacks.optional(),
    content_policy_fallbacks: Fallbacks.optional(),
    default_fallbacks: z.array(z.string().min(1)).optional(),
    model_group_alias: z
      .record(z.string(), z.union([z.string().min(1), z.object({ model: z.string().min(1), hidden: z.boolean().optional() })]))
      .optional(),
    allowed_fails: z.number().int().nonnegative().optional(),
    cooldown_time: z.number().nonnegative().optional(),
    routing_strategy: z.string().optional(),
    routing_strategy_args: z
      .object({ lowest_latency_buffer: z.number().nonnegative().max(10).optional() })
      .loose()
      .optional(),
    enable_pre_call_checks: z.boolean().optional(),
    redis_url: z.string().optional(),
    redis_host: z.string().optional(),
    redis_port: z.union([z.number().int(), z.string()]).optional(),
    redis_password: z.string().optional(),
  })
  .loose();

const LitellmSection = z
  .object({
    num_retries: z.number().int().nonnegative().optional(),
    request_timeout: seconds.optional(),
    fallbacks: Fallbacks.optional(),
    context_window_fallbacks: Fallbacks.optional(),
    content_policy_fallbacks: Fallbacks.optional(),
    default_fallbacks: z.array(z.string().min(1)).optional(),
    cooldown_time: z.number().nonnegative().optional(),
    drop_params: z.boolean().optional(),
    max_budget: z.number().nonnegative().optional(),
    budget_duration: z.string().min(1).optional(),
    cache: z.boolean().optional(),
    cache_params: z
      .object({
        type: z.string().optional(),
        host: z.string().optional(),
        port: z.union([z.number().int(), z.string()]).optional(),
        password: z.string().optional(),
        ttl: z.number().positive().optional(),
        namespace: z.string().optional(),
        supported_call_types: z.array(z.string()).optional(),
        mode: z.enum(["default_on", "default_off"]).optional(),
      })
      .loose()
      .optional(),
    default_team_settings: DefaultTeamSettings.optional(),
  })
  .loose();

const GeneralSection = z
  .object({
    master_key: z.string().min(1).optional(),
    database_url: z.string().optional(),
    maximum_spend_logs_retention_period: z.union([z.string(), z.number()]).optional(),
    maximum_spend_logs_retention_interval: z.string().optional(),
    // How often spend is written (seconds) and each pod's pool size per database endpoint.
    proxy_batch_write_at: z.number().positive().max(3600).optional(),
    database_connection_pool_limit: z.number().int().min(1).max(1000).optional(),
    background_health_checks: z.boolean().optional(),
    health_check_interval: z.number().positive().max(86_400).optional(),
    health_check_details: z.boolean().optional(),
    pass_through_endpoints: z.array(PassThroughEntry).optional(),
    store_model_in_db: z.boolean().optional(),
  })
  .loose();

const ConfigFile = z
  .object({
    model_list: z.array(ModelEntry).default([]),
    router_settings: RouterSection.default({}),
    litellm_settings: LitellmSection.default({}),
    general_settings: GeneralSection.default({}),
  })
  .loose();

// What tandem reads from each section; anything else there is named in a startup warning.
const IMPLEMENTED: Record<string, string[]> = {
  "": ["model_list", "router_settings", "litellm_settings", "general_settings"],
  router_settings: [
    "num_retries",
    "timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "model_group_alias",
    "allowed_fails",
    "cooldown_time",
    "routing_strategy",
    "routing_strategy_args",
    "enable_pre_call_checks",
    "redis_url",
    "redis_host",
    "redis_port",
    "redis_password",
  ],
  litellm_settings: [
    "num_retries",
    "request_timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "cooldown_time",
    "drop_params",
    "max_budget",
    "budget_duration",
    "cache",
    "cache_params",
    "default_team_settings",
  ],
  cache_params: ["type", "host", "port", "password", "ttl", "namespace", "supported_call_types", "mode"],
  general_settings: [
    "master_key",
    "database_url",
    "maximum_spend_logs_retention_period",
    "maximum_spend_logs_retention_interval",
    "proxy_batch_write_at",
    "database_connection_pool_limit",
    "background_health_checks",
    "health_check_interval",
    "health_check_details",
    "pass_through_endpoints",
    "store_model_in_db",
  ],
  litellm_params: [
    "model",
    "api_base",
    "api_key",
    "timeout",
    "stream_timeout",
    "num_retries",
    "mock_timeout",
    "rpm",
    "tpm",
    "weight",
    "api_version",
    "aws_region_name",
    "aws_bedrock_runtime_endpoint",
    "aws_role_name",
    "aws_session_name",
    "aws_sts_endpoint",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
    "region_name",
    "input_cost_per_token",
    "output_cost_per_token",
    "output_cost_per_image",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
  ],
  model_info: [
    "id",
    "mode",
    "input_cost_per_token",
    "output_cost_per_token",
    "output_cost_per_image",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "health_check_timeout",
    "health_check_model",
    "base_model",
    "max_input_tokens",
    "access_groups",
    "team_id",
  ],
};

function unimplemented(section: string, value: unknown, source: string, path = section): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.keys(value)
    .filter((key) => !IMPLEMENTED[section]!.includes(key))
    .map((key) => `${source}: ${path ? `${path}.` : ""}${key} is not implemented by tandem and is ignored`);
}

/** Parses LiteLLM's config.yaml; `os.environ/NAME` values are read from `env`. */
export function parseProxyConfig(text: string, source: string, env: NodeJS.ProcessEnv): ProxyConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new ModelConfigError(`${source}: not valid YAML (${(error as Error).message.split("\n")[0]})`);
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = fieldPath(issue?.path ?? []);
    throw new ModelConfigError(`${source}: ${path || "file"} ${issue?.message ?? "is invalid"}`);
  }
  const file = parsed.data;
  const warnings = [
    ...unimplemented("", raw, source, ""),
    ...unimplemented("router_settings", file.router_settings, source),
    ...unimplemented("litellm_settings", file.litellm_settings, source),
    ...unimplemented("general_settings", file.general_settings, source),
    ...teamSettingsWarnings(file.litellm_settings.default_team_settings ?? [], source),
  ];
  const named = file.router_settings.routing_strategy;
  const strategy: RoutingStrategy = (ROUTING_STRATEGIES as readonly string[]).includes(named ?? "")
    ? (named as RoutingStrategy)
    : "simple-shuffle";
  if (named && named !== strategy)
    warnings.push(
      `${source}: router_settings.routing_strategy ${file.router_settings.routing_strategy} is not implemented by tandem; simple-shuffle is used`,
    );
  if (file.general_settings.database_url !== undefined)
    warnings.push(`${source}: general_settings.database_url is ignored; tandem reads DATABASE_URL`);

  // LiteLLM reads an unset variable as no value; tandem does too, saying so, unless told to be strict.
  const strict = /^(1|true)$/i.test(env.CONFIG_FILE_STRICT ?? "");
  const optionalEnv = (value: string | undefined, where: string): string | undefined => {
    try {
      return resolveEnv(value, where, env);
    } catch (error) {
      if (!(error instanceof UnsetVariable) || strict) throw error;
      warnings.push(`${error.message}; read as no value`);
      return undefined;
    }
  };
  const timeoutS = file.router_settings.timeout ?? file.litellm_settings.request_timeout ?? 600;
  const models = new Map<string, Deployment[]>();
  const unserved: Unserved[] = [];
  const ids = new Set<string>();
  const unpriced: string[] = [];
  file.model_list.forEach((entry, index) => {
    const where = `${source}: model_list[${index}]`;
    const params = entry.litellm_params;
    warnings.push(...unimplemented("litellm_params", params, source, `model_list[${index}].litellm_params`));
    warnings.push(...unimplemented("model_info", entry.model_info, source, `model_list[${index}].model_info`));
    const provider = providerOf(params.model);
    const id = entry.model_info.id ?? `${entry.model_name}/${index}`;
    if (ids.has(id)) throw new ModelConfigError(`${where}.model_info.id "${id}" is used twice`);
    ids.add(id);
    let deployment: Deployment;
    try {
      deployment = servableDeployment(entry, { where, id, env, timeoutS, unpriced });
    } catch (error) {
      if (!(error instanceof EntryNotServable) || strict) throw error;
      unserved.push({ id, name: entry.model_name, model: params.model, provider, reason: error.message });
      warnings.push(`${error.message}; ${entry.model_name} (${id}) is not served (CONFIG_FILE_STRICT=true refuses the start instead)`);
      return;
    }
    models.set(entry.model_name, [...(models.get(entry.model_name) ?? []), deployment]);
  });

  const known = (name: string) => models.has(name) || unserved.some((u) => u.name === name);
  const fallbackLists = (key: "fallbacks" | "context_window_fallbacks" | "content_policy_fallbacks") => {
    const lists = new Map<string, string[]>();
    const section = file.router_settings[key] ? "router_settings" : "litellm_settings";
    (file.router_settings[key] ?? file.litellm_settings[key] ?? []).forEach((rule, index) => {
      for (const [group, targets] of Object.entries(rule)) {
        // `*` is every group's default (LiteLLM's default_fallbacks written inside fallbacks).
        for (const name of group === "*" ? targets : [group, ...targets])
          if (!known(name))
            throw new ModelConfigError(`${source}: ${section}.${key}[${index}] names ${JSON.stringify(name)}, which is not in model_list`);
        lists.set(group, targets);
      }
    });
    return lists;
  };
  const fallbacks = fallbackLists("fallbacks");
  const defaults = file.router_settings.default_fallbacks ?? file.litellm_settings.default_fallbacks;
  for (const [index, name] of (defaults ?? []).entries())
    if (!known(name))
      throw new ModelConfigError(`${source}: default_fallbacks[${index}] names ${JSON.stringify(name)}, which is not in model_list`);
  if (defaults && !fallbacks.has("*")) fallbacks.set("*", defaults);
  const aliases = new Map<string, string>();
  const hiddenAliases = new Set<string>();
  for (const [alias, target] of Object.entries(file.router_settings.model_group_alias ?? {})) {
    if (typeof target !== "string" && target.hidden) hiddenAliases.add(alias);
    const group = typeof target === "string" ? target : target.model;
    if (!known(group))
      throw new ModelConfigError(
        `${source}: router_settings.model_group_alias.${alias} names ${JSON.stringify(group)}, which is not in model_list`,
      );
    aliases.set(alias, group);
  }

  let masterKey: string | undefined;
  let masterKeyProblem: string | undefined;
  try {
    masterKey = resolveEnv(file.general_settings.master_key, `${source}: general_settings.master_key`, env);
    registerSecret(masterKey);
  } catch (error) {
    masterKeyProblem = (error as Error).message;
  }
  const rs = file.router_settings;
  const at = (key: string) => `${source}: router_settings.${key}`;
  const cp = file.litellm_settings.cache_params;
  const cacheAt = (key: string) => `${source}: litellm_settings.cache_params.${key}`;
  warnings.push(...unimplemented("cache_params", cp, source, "litellm_settings.cache_params"));
  let redis: RedisConfig | undefined;
  try {
    redis = redisConfig(
      {
        url: optionalEnv(rs.redis_url, at("redis_url")),
        host: optionalEnv(rs.redis_host, at("redis_host")),
        port: typeof rs.redis_port === "number" ? rs.redis_port : optionalEnv(rs.redis_port, at("redis_port")),
        password: optionalEnv(rs.redis_password, at("redis_password")),
      },
      { url: at("redis_url"), host: at("redis_host"), port: at("redis_port"), password: at("redis_password"), username: "", ssl: "" },
    );
    // LiteLLM's cache Redis: the fleet's Redis when router_settings names none.
    redis ??= redisConfig(
      {
        host: optionalEnv(cp?.host, cacheAt("host")),
        port: typeof cp?.port === "number" ? cp.port : optionalEnv(cp?.port, cacheAt("port")),
        password: optionalEnv(cp?.password, cacheAt("password")),
      },
      { url: "", host: cacheAt("host"), port: cacheAt("port"), password: cacheAt("password"), username: "", ssl: "" },
    );
  } catch (error) {
    if (error instanceof RedisConfigError) throw new ModelConfigError(error.message);
    throw error;
  }
  const CACHED_CALL_TYPES = ["acompletion", "atext_completion", "aembedding", "completion", "text_completion", "embedding"];
  for (const type of cp?.supported_call_types ?? [])
    if (!CACHED_CALL_TYPES.includes(type))
      warnings.push(`${source}: litellm_settings.cache_params.supported_call_types ${type} is not cached by tandem`);
  if (cp?.type && cp.type !== "redis" && cp.type !== "local")
    warnings.push(
      `${source}: litellm_settings.cache_params.type ${cp.type} is not implemented by tandem; answers are cached in Redis when one is configured, else in each pod's memory`,
    );
  const cache: CacheSettings | undefined = file.litellm_settings.cache
    ? {
        ttlSeconds: cp?.ttl ?? 600,
        namespace: cp?.namespace ?? "tandem:cache",
        callTypes: (cp?.supported_call_types ?? ["acompletion", "atext_completion", "aembedding"]).map((t) =>
          t.startsWith("a") ? t : `a${t}`,
        ),
        optIn: cp?.mode === "default_off",
      }
    : undefined;
  const ls = file.litellm_settings;
  if (ls.budget_duration !== undefined) {
    try {
      parseDuration(ls.budget_duration, "budget_duration");
    } catch {
      throw new ModelConfigError(
        `${source}: litellm_settings.budget_duration ${JSON.stringify(ls.budget_duration)} is not a duration like 30d`,
      );
    }
  }
  const gs = file.general_settings;
  let spendRetention: RetentionSettings;
  try {
    spendRetention = retentionSettings(
      { period: gs.maximum_spend_logs_retention_period, interval: gs.maximum_spend_logs_retention_interval },
      {
        period: `${source}: general_settings.maximum_spend_logs_retention_period`,
        interval: `${source}: general_settings.maximum_spend_logs_retention_interval`,
      },
    );
  } catch (error) {
    throw new ModelConfigError((error as Error).message);
  }
  let passThrough: PassThroughEndpoint[];
  try {
    passThrough = passThroughEndpoints(gs.pass_through_endpoints ?? [], source, env);
  } catch (error) {
    throw new ModelConfigError((error as Error).message);
  }
  // LiteLLM treats max_budget 0 as "no global budget".
  const proxyBudget = ls.max_budget ? { maxBudget: ls.max_budget, budgetDuration: ls.budget_duration } : { maxBudget: null };
  return {
    models,
    unserved,
    redis,
    cache,
    proxyBudget,
    spendRetention,
    passThrough,
    healthChecks: {
      background: gs.background_health_checks ?? DEFAULT_HEALTH_CHECKS.background,
      intervalMs: gs.health_check_interval !== undefined ? gs.health_check_interval * 1000 : DEFAULT_HEALTH_CHECKS.intervalMs,
      details: gs.health_check_details ?? DEFAULT_HEALTH_CHECKS.details,
    },
    ...(gs.database_connection_pool_limit !== undefined ? { databasePoolLimit: gs.database_connection_pool_limit } : {}),
    ...(gs.proxy_batch_write_at !== undefined ? { spendFlushIntervalMs: Math.round(gs.proxy_batch_write_at * 1000) } : {}),
    // LiteLLM's variable turns it on as well as the file's setting.
    storeModelsInDb: gs.store_model_in_db ?? /^(1|true)$/i.test(env.STORE_MODEL_IN_DB ?? ""),
    router: {
      numRetries: file.router_settings.num_retries ?? file.litellm_settings.num_retries ?? 2,
      timeoutMs: timeoutS * 1000,
      fallbacks,
      contextWindowFallbacks: fallbackLists("context_window_fallbacks"),
      contentPolicyFallbacks: fallbackLists("content_policy_fallbacks"),
      aliases,
      hiddenAliases,
      preCallChecks: file.router_settings.enable_pre_call_checks ?? false,
      strategy,
      ...(file.router_settings.routing_strategy_args?.lowest_latency_buffer !== undefined
        ? { latencyBuffer: file.router_settings.routing_strategy_args.lowest_latency_buffer }
        : {}),
      allowedFails: file.router_settings.allowed_fails ?? 3,
      cooldownMs: (file.router_settings.cooldown_time ?? file.litellm_settings.cooldown_time ?? 5) * 1000,
    },
    masterKey,
    masterKeyProblem,
    warnings,
    unpriced,
  };
}

/** LiteLLM's provider prefix of `litellm_params.model` (`openai` when there is none). */
export function providerOf(model: string): string {
  const slash = model.indexOf("/");
  return slash >= 0 ? model.slice(0, slash) : "openai";
}

/**
 * One model_list entry (or a model kept in the database) as a deployment; EntryNotServable says why
 * tandem cannot serve it. `where` names the entry in messages; `timeoutS` is the router's default.
 */
export function servableDeployment(
  entry: z.infer<typeof ModelEntry>,
  at: { where: string; id: string; env: NodeJS.ProcessEnv; timeoutS: number; unpriced: string[] },
): Deployment {
  const { where, id, env, timeoutS, unpriced } = at;
  const params = entry.litellm_params;
  const provider = providerOf(params.model);
  const slash = params.model.indexOf("/");
  if (!(PROVIDERS as readonly string[]).includes(provider))
    throw new EntryNotServable(
      `${where}.litellm_params.model ${JSON.stringify(params.model)}: provider ${JSON.stringify(provider)} is not served by tandem (it serves ${PROVIDERS.join("/, ")}/)`,
    );
  if (chatOnly(provider) && entry.model_info.mode !== "chat")
    throw new EntryNotServable(`${where}.model_info.mode ${entry.model_info.mode}: tandem serves ${provider}/ models for chat only`);
  const awsRegion =
    provider === "bedrock"
      ? (resolveEnv(params.aws_region_name, `${where}.litellm_params.aws_region_name`, env) ?? env.AWS_REGION)
      : undefined;
  if (provider === "bedrock" && !awsRegion)
    throw new EntryNotServable(`${where}.litellm_params.aws_region_name is required for ${params.model} (or set AWS_REGION)`);
  const aws = provider === "bedrock" ? awsIdentity(params, where, env) : undefined;
  const vertex = provider === "vertex_ai" ? vertexSettings(params, where, env) : undefined;
  // LiteLLM's OpenAI client takes its address from OPENAI_BASE_URL / OPENAI_API_BASE when an entry gives none.
  const openaiBase =
    provider === "openai" || provider === "text-completion-openai" ? (env.OPENAI_BASE_URL ?? env.OPENAI_API_BASE) : undefined;
  const apiBase =
    resolveEnv(params.api_base, `${where}.litellm_params.api_base`, env) ??
    (openaiBase || undefined) ??
    (provider === "bedrock"
      ? (resolveEnv(params.aws_bedrock_runtime_endpoint, `${where}.litellm_params.aws_bedrock_runtime_endpoint`, env) ??
        env.AWS_BEDROCK_RUNTIME_ENDPOINT)
      : undefined) ??
    defaultApiBase(provider, awsRegion ?? vertex?.location);
  if (!apiBase) throw new EntryNotServable(`${where}.litellm_params.api_base is required for ${params.model}`);
  if (!/^https?:\/\/[^\s/]+/.test(apiBase) || !URL.canParse(apiBase))
    throw new EntryNotServable(`${where}.litellm_params.api_base must be an http(s) URL`);
  const apiVersion =
    provider === "azure"
      ? (resolveEnv(params.api_version, `${where}.litellm_params.api_version`, env) ?? env.AZURE_API_VERSION ?? AZURE_DEFAULT_API_VERSION)
      : undefined;
  // LiteLLM's gemini/ reads GEMINI_API_KEY when the entry names no key.
  const apiKey =
    resolveEnv(params.api_key, `${where}.litellm_params.api_key`, env) ?? (provider === "gemini" ? env.GEMINI_API_KEY : undefined);
  registerSecret(apiKey);
  const upstreamModel = slash >= 0 ? params.model.slice(slash + 1) : params.model;
  // Priced and sized as its base_model when it names one ("azure/gpt-4o"; without a prefix, the entry's provider).
  const base = entry.model_info.base_model;
  const sizedAs = base ? withProvider(base, provider) : { provider, model: upstreamModel };
  const maxInputTokens =
    entry.model_info.max_input_tokens ?? (sizedAs.model.includes("*") ? undefined : contextWindow(sizedAs.provider, sizedAs.model));
  const price = resolvePrice(sizedAs.provider, sizedAs.model, {
    input_cost_per_token: entry.model_info.input_cost_per_token ?? params.input_cost_per_token,
    output_cost_per_token: entry.model_info.output_cost_per_token ?? params.output_cost_per_token,
    output_cost_per_image: entry.model_info.output_cost_per_image ?? params.output_cost_per_image,
    cache_read_input_token_cost: entry.model_info.cache_read_input_token_cost ?? params.cache_read_input_token_cost,
    cache_creation_input_token_cost: entry.model_info.cache_creation_input_token_cost ?? params.cache_creation_input_token_cost,
  });
  // A wildcard entry is priced per concrete model when a request names one.
  if (price.source === "unknown" && !upstreamModel.includes("*"))
    unpriced.push(
      `${where} (${entry.model_name}): no price for ${params.model} in the config or the price database; its calls are charged 0 (set model_info.input_cost_per_token / output_cost_per_token)`,
    );
  return {
    id,
    ...(params.region_name ? { region: params.region_name } : {}),
    name: entry.model_name,
    upstreamModel,
    provider,
    ...(apiVersion ? { apiVersion } : {}),
    ...(awsRegion ? { awsRegion } : {}),
    ...(aws ? { aws } : {}),
    ...(vertex ? { vertex } : {}),
    apiBase: apiBase.replace(/\/+$/, ""),
    apiKey,
    timeoutMs: (params.timeout ?? timeoutS) * 1000,
    ...(params.stream_timeout !== undefined ? { streamTimeoutMs: params.stream_timeout * 1000 } : {}),
    ...(params.num_retries !== undefined ? { numRetries: params.num_retries } : {}),
    ...(params.mock_timeout ? { mockTimeout: true as const } : {}),
    price,
    rpm: params.rpm,
    tpm: params.tpm,
    weight: params.weight ?? params.rpm ?? params.tpm ?? 1,
    mode: entry.model_info.mode,
    ...(maxInputTokens !== undefined ? { maxInputTokens } : {}),
    ...(entry.model_info.health_check_timeout !== undefined ? { healthCheckTimeoutMs: entry.model_info.health_check_timeout * 1000 } : {}),
    ...(entry.model_info.health_check_model ? { healthCheckModel: entry.model_info.health_check_model } : {}),
    ...(entry.model_info.access_groups?.length ? { accessGroups: entry.model_info.access_groups } : {}),
    ...(entry.model_info.team_id ? { teamId: entry.model_info.team_id } : {}),
  };
}

/**
 * A Bedrock deployment's own AWS identity, as LiteLLM reads it: `aws_access_key_id` /
 * `aws_secret_access_key` (/ `aws_session_token`) in place of the default chain, and `aws_role_name`
 * (a role ARN) assumed with them — or with the chain's, the pod's IRSA role on EKS — as
 * `aws_session_name`, through `aws_sts_endpoint` when set (a VPC endpoint). Undefined: the chain.
 */
type EntryParams = z.infer<typeof ModelEntry>["litellm_params"];

function awsIdentity(params: EntryParams, where: string, env: NodeJS.ProcessEnv): AwsIdentity | undefined {
  type AwsParam =
    "aws_access_key_id" | "aws_secret_access_key" | "aws_session_token" | "aws_role_name" | "aws_session_name" | "aws_sts_endpoint";
  const read = (name: AwsParam) => {
    const value = resolveEnv(params[name], `${where}.litellm_params.${name}`, env);
    if (name !== "aws_role_name" && name !== "aws_session_name" && name !== "aws_sts_endpoint") registerSecret(value);
    return value;
  };
  const identity: AwsIdentity = {
    accessKeyId: read("aws_access_key_id"),
    secretAccessKey: read("aws_secret_access_key"),
    sessionToken: read("aws_session_token"),
    roleArn: read("aws_role_name"),
    sessionName: read("aws_session_name"),
    stsEndpoint: read("aws_sts_endpoint"),
  };
  if (!identity.accessKeyId !== !identity.secretAccessKey)
    throw new EntryNotServable(
      `${where}.litellm_params.aws_access_key_id and aws_secret_access_key go together: one is set without the other`,
    );
  const set = Object.fromEntries(Object.entries(identity).filter(([, value]) => value !== undefined)) as AwsIdentity;
  return Object.keys(set).length > 0 ? set : undefined;
}

/**
 * A Vertex AI deployment's project, location and service account, as LiteLLM reads them:
 * vertex_credentials (a key's JSON, or a path to one; else VERTEXAI_CREDENTIALS, else the file
 * GOOGLE_APPLICATION_CREDENTIALS names), vertex_project (else VERTEXAI_PROJECT, else the key's
 * project_id), vertex_location (else VERTEXAI_LOCATION, else us-central1).
 */
function vertexSettings(params: EntryParams, where: string, env: NodeJS.ProcessEnv): NonNullable<Deployment["vertex"]> {
  const at = `${where}.litellm_params.vertex_credentials`;
  const given = resolveEnv(params.vertex_credentials, at, env) ?? env.VERTEXAI_CREDENTIALS ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!given)
    throw new EntryNotServable(
      `${at} is required for ${params.model} (a service account key, or set GOOGLE_APPLICATION_CREDENTIALS): tandem does not ask a metadata server`,
    );
  let text = given.trim();
  if (!text.startsWith("{")) {
    try {
      text = readFileSync(text, "utf8");
    } catch (error) {
      throw new EntryNotServable(`${at} names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  registerSecret(text);
  let key: ServiceAccountKey;
  try {
    key = serviceAccountKey(text);
  } catch (error) {
    throw new EntryNotServable(`${at} ${(error as Error).message}`);
  }
  registerSecret(key.private_key);
  const project =
    resolveEnv(params.vertex_project, `${where}.litellm_params.vertex_project`, env) ?? env.VERTEXAI_PROJECT ?? key.project_id;
  if (!project)
    throw new EntryNotServable(`${where}.litellm_params.vertex_project is required for ${params.model} (or set VERTEXAI_PROJECT)`);
  const location =
    resolveEnv(params.vertex_location, `${where}.litellm_params.vertex_location`, env) ?? env.VERTEXAI_LOCATION ?? "us-central1";
  if (!/^[a-z0-9-]+$/.test(location))
    throw new EntryNotServable(`${where}.litellm_params.vertex_location ${JSON.stringify(location)} is not a Google Cloud location`);
  return { project, location, key };
}

/** LiteLLM's `provider/model`: the prefix when it names a provider tandem serves, else the whole name under `provider`. */
function withProvider(name: string, provider: string): { provider: string; model: string } {
  const slash = name.indexOf("/");
  const prefix = slash > 0 ? name.slice(0, slash) : "";
  return (PROVIDERS as readonly string[]).includes(prefix) ? { provider: prefix, model: name.slice(slash + 1) } : { provider, model: name };
}

export function loadProxyConfig(path: string | undefined, env: NodeJS.ProcessEnv): ProxyConfig {
  if (!path) return parseProxyConfig("", "no CONFIG_FILE", env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ModelConfigError(`CONFIG_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseProxyConfig(text, `CONFIG_FILE ${path}`, env);
}

function resolveEnv(value: string | undefined, where: string, env: NodeJS.ProcessEnv): string | undefined {
  const match = value ? OS_ENVIRON.exec(value) : null;
  if (!match?.[1]) return value;
  const resolved = env[match[1]];
  if (resolved === undefined || resolved === "")
    throw new UnsetVariable(`${where} reads ${match[1]} from the environment, which is not set`);
  return resolved;
}
