import { Router } from "express";
import type { PassThroughEndpoint } from "../../config/pass-through.js";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { passThrough } from "../../services/proxy/pass-through.js";

/**
 * general_settings.pass_through_endpoints, each on every method: its path, and with include_subpath
 * everything under it. Mounted before the JSON body parser: the body is streamed to the target as it came.
 */
export function passThroughRoutes(ctx: AppContext, endpoints: readonly PassThroughEndpoint[]): Router {
  const router = Router();
  for (const endpoint of endpoints) {
    const paths = endpoint.includeSubpath ? [endpoint.path, `${endpoint.path}/*rest`] : [endpoint.path];
    router.all(paths, async (req, res) => {
      const caller = await callerOf(ctx, req.headers);
      const query = req.originalUrl.includes("?") ? req.originalUrl.slice(req.originalUrl.indexOf("?")) : "";
      const rest = (endpoint.includeSubpath ? req.path.slice(endpoint.path.length) : "") + query;
      await passThrough(ctx, endpoint, caller, { method: req.method, rest, headers: req.headers, body: req }, res);
    });
  }
  return router;
}
