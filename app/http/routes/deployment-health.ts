import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { validate } from "../validate.js";
import { allowedModels } from "../../services/access/access.js";
import { isAdmin } from "../../services/access/key-ownership.js";
import type { EndpointHealth } from "../../services/upstream/deployment-health.js";
import type { Unserved } from "../../config/model-config.js";

export const HealthQuery = z.object({
  /** A model group (model_name) or a deployment's litellm_params.model. */
  model: z.string().min(1).optional(),
  /** One deployment, by model_info.id. */
  model_id: z.string().min(1).optional(),
});

/**
 * LiteLLM's GET /health: each deployment the caller may use, called with its
 * mode's smallest request (or, with background_health_checks, as the last run
 * found it), in healthy_endpoints / unhealthy_endpoints with the error. Never
 * the upstream key; the address (api_base, api_version) only for an admin, as
 * LiteLLM shows it. Entries tandem cannot serve are unhealthy, with why.
 */
export function deploymentHealthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get("/health", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const query = validate(HealthQuery, req.query, "query");
    const allowed = new Set(allowedModels(caller, ctx.router));
    const wanted = (name: string, model: string, id: string) =>
      allowed.has(name) && (!query.model || query.model === name || query.model === model) && (!query.model_id || query.model_id === id);
    const deployments = ctx.router.allDeployments().filter((d) => wanted(d.name, `${d.provider}/${d.upstreamModel}`, d.id));
    const ids = new Set(deployments.map((d) => d.id));
    const run = ctx.deploymentHealth.background ? await ctx.deploymentHealth.latest() : await ctx.deploymentHealth.check(deployments);
    const shown = { details: ctx.deploymentHealth.details, admin: isAdmin(caller) };
    const results = run.endpoints.filter((e) => ids.has(e.deployment.id)).map((e) => endpointView(e, shown));
    const unserved = [...allowed]
      .flatMap((name) => ctx.router.unserved(name))
      .filter((u) => wanted(u.name, u.model, u.id))
      .map(unservedView);
    const healthy = results.filter((r) => !("error" in r));
    const unhealthy = [...results.filter((r) => "error" in r), ...unserved];
    res.json({
      healthy_endpoints: healthy,
      unhealthy_endpoints: unhealthy,
      healthy_count: healthy.length,
      unhealthy_count: unhealthy.length,
    });
  });
  return router;
}

/** LiteLLM's displayed fields of a deployment; without details, its model and error only. */
function endpointView(endpoint: EndpointHealth, shown: { details: boolean; admin: boolean }) {
  const d = endpoint.deployment;
  const error = endpoint.healthy ? {} : { error: endpoint.error };
  const base = { model: `${d.provider}/${d.upstreamModel}`, model_name: d.name, model_id: d.id };
  if (!shown.details) return { ...base, ...error };
  return {
    ...base,
    custom_llm_provider: d.provider,
    mode: d.mode,
    ...(shown.admin ? { api_base: d.apiBase, ...(d.apiVersion ? { api_version: d.apiVersion } : {}) } : {}),
    ...(d.awsRegion ? { aws_region_name: d.awsRegion } : {}),
    ...(d.region ? { region_name: d.region } : {}),
    ...(d.rpm ? { rpm: d.rpm } : {}),
    ...(d.tpm ? { tpm: d.tpm } : {}),
    ...error,
  };
}

function unservedView(u: Unserved) {
  return {
    model: u.model,
    model_name: u.name,
    model_id: u.id,
    custom_llm_provider: u.provider,
    error: `cannot be served by tandem: ${u.reason}`,
  };
}
