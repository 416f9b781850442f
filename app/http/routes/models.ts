import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { allowedModels } from "../../services/access/access.js";
import { ApiError } from "../../services/errors.js";
import { validate } from "../validate.js";
import type { Deployment } from "../../config/model-config.js";
import { knownModels } from "../../config/prices.js";
import { globMatch } from "../../services/glob.js";

const ListQuery = z.object({ only_model_access_groups: z.string().optional() }).loose();
const InfoQuery = z.object({ litellm_model_id: z.string().min(1).optional() }).loose();

/** OpenAI's model list and LiteLLM's /model/info: only what the caller may use; never an upstream key. */
export function modelRoutes(ctx: AppContext): Router {
  const router = Router();
  // One stable "created" for the process, as a proxy has no real creation date for a config entry.
  const created = Math.floor(Date.now() / 1000);
  const entry = (id: string) => ({ id, object: "model", created, owned_by: "openai" });

  const list = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const { only_model_access_groups } = validate(ListQuery, req.query, "query");
    const allowed = allowedModels(caller, ctx.router);
    // LiteLLM's ?only_model_access_groups=true: the access groups of the models the caller may use.
    const listed = /^true$/i.test(only_model_access_groups ?? "")
      ? [...new Set(allowed.flatMap((name) => ctx.router.accessGroupsOf(name)))]
      : allowed.filter((name) => !ctx.router.hidden(name));
    res.json({ object: "list", data: listed.map(entry) });
  };
  const one = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const id = String(req.params.model);
    if (!allowedModels(caller, ctx.router).includes(id)) throw ApiError.notFound(`model: ${JSON.stringify(id)} not found`, "model");
    res.json(entry(id));
  };
  const info = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const { litellm_model_id } = validate(InfoQuery, req.query, "query");
    const cooling = new Set(ctx.router.coolingDown().map((c) => c.id));
    const names = allowedModels(caller, ctx.router);
    // An entry tandem cannot serve is listed with why, as LiteLLM lists every entry of the file.
    const unserved = names.flatMap((name) =>
      ctx.router.unserved(name).map((u) => ({
        model_name: u.name,
        litellm_params: { model: u.model },
        model_info: { id: u.id, db_model: false, tandem_unserved: u.reason },
      })),
    );
    // An alias (model_group_alias) names its group's deployments again: each is listed once.
    const deployments = [...new Map(names.flatMap((name) => ctx.router.deployments(name)).map((d) => [d.id, d])).values()];
    const data = deployments.map((d) => ({
      model_name: d.name,
      litellm_params: {
        model: d.upstreamModel,
        api_base: d.apiBase,
        timeout: d.timeoutMs / 1000,
        ...(d.rpm ? { rpm: d.rpm } : {}),
        ...(d.tpm ? { tpm: d.tpm } : {}),
      },
      model_info: {
        id: d.id,
        mode: d.mode,
        ...(d.maxInputTokens !== undefined ? { max_input_tokens: d.maxInputTokens } : {}),
        input_cost_per_token: d.price.inputPerToken,
        output_cost_per_token: d.price.outputPerToken,
        ...(d.price.perImage !== undefined ? { output_cost_per_image: d.price.perImage } : {}),
        // Where the price in use came from: config, genai-prices (and the model it matched) or unknown (charged 0).
        price_source: d.price.source,
        ...(d.price.matched ? { price_model: d.price.matched } : {}),
        db_model: d.stored ?? false,
        ...(d.accessGroups ? { access_groups: d.accessGroups } : {}),
        ...(d.teamId ? { team_id: d.teamId } : {}),
        cooling_down: cooling.has(d.id),
      },
    }));
    const all = [...data, ...new Map(unserved.map((u) => [u.model_info.id, u])).values()];
    res.json({ data: litellm_model_id ? all.filter((m) => m.model_info.id === litellm_model_id) : all });
  };

  // LiteLLM's /model_group/info: per model group the caller may use, its providers, limits, prices and mode.
  const groupInfo = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const { model_group } = validate(z.object({ model_group: z.string().min(1).optional() }), req.query, "query");
    const groups = [...new Set(allowedModels(caller, ctx.router).flatMap(concreteNames))].filter(
      (name) => !model_group || name === model_group,
    );
    // A group tandem cannot serve has no deployments to describe (/model/info says why).
    const served = groups.filter((name) => ctx.router.deployments(name).length > 0);
    res.json({ data: served.map((name) => modelGroupView(name, ctx.router.deployments(name))) });
  };

  // A wildcard group (`anthropic/*`) is listed as the concrete models the price database knows under
  // it, as LiteLLM lists them; a name configured on its own stays its own group.
  const concreteNames = (name: string): string[] => {
    const wildcard = ctx.router.deployments(name).find((d) => d.upstreamModel.includes("*"));
    if (!name.includes("*") || !wildcard) return [name];
    const names = knownModels(wildcard.provider).flatMap((model) => {
      const matched = globMatch(wildcard.upstreamModel, model);
      return matched === undefined ? [] : [name.replace("*", matched)];
    });
    const configured = new Set(ctx.router.modelNames());
    const concrete = names.filter((n) => !configured.has(n));
    return concrete.length > 0 ? concrete : [name];
  };

  router.get(["/v1/models", "/models"], list);
  router.get(["/model_group/info", "/v1/model_group/info"], groupInfo);
  router.get(["/v1/models/:model", "/models/:model"], one);
  router.get(["/v1/model/info", "/model/info"], info);
  return router;
}

const sumOf = (values: Array<number | undefined>) => (values.every((v) => v !== undefined) ? values.reduce((a, b) => a! + b!, 0) : null);

function modelGroupView(name: string, deployments: readonly Deployment[]) {
  const first = deployments[0]!;
  return {
    model_group: name,
    providers: [...new Set(deployments.map((d) => d.provider))],
    mode: first.mode,
    // A group's capacity is its deployments' together; unknown if any deployment is unlimited.
    tpm: sumOf(deployments.map((d) => d.tpm)),
    rpm: sumOf(deployments.map((d) => d.rpm)),
    // The dearest deployment's price: what a call may cost.
    input_cost_per_token: Math.max(...deployments.map((d) => d.price.inputPerToken)),
    output_cost_per_token: Math.max(...deployments.map((d) => d.price.outputPerToken)),
    ...(deployments.some((d) => d.price.perImage !== undefined)
      ? { output_cost_per_image: Math.max(...deployments.map((d) => d.price.perImage ?? 0)) }
      : {}),
    max_input_tokens: null,
    max_output_tokens: null,
    supports_function_calling: first.mode === "chat",
    supports_parallel_function_calling: first.mode === "chat",
    supports_vision: false,
    supported_openai_params: SUPPORTED_PARAMS[first.mode],
    configurable_clientside_auth_params: null,
  };
}

// What a client may send per mode; tandem passes every parameter through, these are the ones LiteLLM lists.
const SUPPORTED_PARAMS: Record<Deployment["mode"], string[]> = {
  chat: [
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "user",
  ],
  completion: ["max_tokens", "n", "stop", "stream", "stream_options", "temperature", "top_p", "user"],
  embedding: ["dimensions", "encoding_format", "user"],
  image_generation: ["n", "quality", "response_format", "size", "style", "user"],
  moderation: ["input"],
};
