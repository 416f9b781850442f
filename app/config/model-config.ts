import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { registerSecret } from "../observability/secrets.js";

/** One entry of LiteLLM's `model_list`, resolved and ready to forward to. */
export interface ModelRoute {
  /** The name clients send as `model`. */
  name: string;
  /** The model name the upstream expects (LiteLLM's `provider/model` without the provider). */
  upstreamModel: string;
  apiBase: string;
  apiKey?: string;
  timeoutMs: number;
  inputCostPerToken: number;
  outputCostPerToken: number;
}

export class ModelConfigError extends Error {
  override name = "ModelConfigError";
}

const OS_ENVIRON = /^os\.environ\/(.+)$/;

const ModelEntry = z.object({
  model_name: z.string().min(1),
  litellm_params: z.object({
    model: z.string().min(1),
    api_base: z.url({ message: "must be an http(s) URL" }),
    api_key: z.string().optional(),
    timeout: z.number().positive().optional(),
  }),
  model_info: z
    .object({
      input_cost_per_token: z.number().nonnegative().default(0),
      output_cost_per_token: z.number().nonnegative().default(0),
    })
    .default({ input_cost_per_token: 0, output_cost_per_token: 0 }),
});

const ConfigFile = z.object({ model_list: z.array(ModelEntry).default([]) }).loose();

/** Parses LiteLLM's config format; `os.environ/NAME` values are read from `env`. */
export function parseModelConfig(text: string, source: string, env: NodeJS.ProcessEnv): Map<string, ModelRoute> {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new ModelConfigError(`${source}: not valid YAML (${(error as Error).message.split("\n")[0]})`);
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? [])
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    throw new ModelConfigError(`${source}: ${path || "file"} ${issue?.message ?? "is invalid"}`);
  }
  const routes = new Map<string, ModelRoute>();
  parsed.data.model_list.forEach((entry, index) => {
    const where = `${source}: model_list[${index}]`;
    if (routes.has(entry.model_name)) throw new ModelConfigError(`${where}.model_name "${entry.model_name}" is listed twice`);
    const params = entry.litellm_params;
    const apiKey = resolveEnv(params.api_key, `${where}.litellm_params.api_key`, env);
    registerSecret(apiKey);
    const slash = params.model.indexOf("/");
    routes.set(entry.model_name, {
      name: entry.model_name,
      upstreamModel: slash >= 0 ? params.model.slice(slash + 1) : params.model,
      apiBase: params.api_base.replace(/\/+$/, ""),
      apiKey,
      timeoutMs: (params.timeout ?? 600) * 1000,
      inputCostPerToken: entry.model_info.input_cost_per_token,
      outputCostPerToken: entry.model_info.output_cost_per_token,
    });
  });
  return routes;
}

export function loadModelConfig(path: string | undefined, env: NodeJS.ProcessEnv): Map<string, ModelRoute> {
  if (!path) return new Map();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ModelConfigError(`CONFIG_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseModelConfig(text, `CONFIG_FILE ${path}`, env);
}

function resolveEnv(value: string | undefined, where: string, env: NodeJS.ProcessEnv): string | undefined {
  const match = value ? OS_ENVIRON.exec(value) : null;
  if (!match?.[1]) return value;
  const resolved = env[match[1]];
  if (resolved === undefined || resolved === "")
    throw new ModelConfigError(`${where} reads ${match[1]} from the environment, which is not set`);
  return resolved;
}
