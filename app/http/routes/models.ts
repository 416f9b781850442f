import { Router, type Request, type Response } from "express";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { allowedModels } from "../../services/access/access.js";
import { ApiError } from "../../services/errors.js";

/** OpenAI's model list and LiteLLM's /model/info: only what the caller may use; never an upstream key. */
export function modelRoutes(ctx: AppContext): Router {
  const router = Router();
  // One stable "created" for the process, as a proxy has no real creation date for a config entry.
  const created = Math.floor(Date.now() / 1000);
  const entry = (id: string) => ({ id, object: "model", created, owned_by: "openai" });

  const list = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    res.json({ object: "list", data: allowedModels(caller, ctx.router).map(entry) });
  };
  const one = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const id = String(req.params.model);
    if (!allowedModels(caller, ctx.router).includes(id)) throw ApiError.notFound(`model: ${JSON.stringify(id)} not found`, "model");
    res.json(entry(id));
  };
  const info = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const cooling = new Set(ctx.router.coolingDown().map((c) => c.id));
    const data = allowedModels(caller, ctx.router).flatMap((name) =>
      ctx.router.deployments(name).map((d) => ({
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
          input_cost_per_token: d.price.inputPerToken,
          output_cost_per_token: d.price.outputPerToken,
          ...(d.price.perImage !== undefined ? { output_cost_per_image: d.price.perImage } : {}),
          // Where the price in use came from: config, genai-prices (and the model it matched) or unknown (charged 0).
          price_source: d.price.source,
          ...(d.price.matched ? { price_model: d.price.matched } : {}),
          db_model: false,
          cooling_down: cooling.has(d.id),
        },
      })),
    );
    res.json({ data });
  };

  router.get(["/v1/models", "/models"], list);
  router.get(["/v1/models/:model", "/models/:model"], one);
  router.get(["/v1/model/info", "/model/info"], info);
  return router;
}
