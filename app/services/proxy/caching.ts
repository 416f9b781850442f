import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Caller } from "../access/auth.js";
import { cacheControls, cacheKey, type CacheControls } from "../upstream/cache-key.js";
import { usageOf } from "../upstream/upstream-response.js";
import type { ProxyDeps } from "./deps.js";
import { NO_USAGE, type Operation } from "./operation.js";
import { record } from "./record.js";

/** How this request uses the response cache (undefined: not at all — off, a stream, or a call type not cached). */
export interface Caching {
  key: string;
  controls: CacheControls;
  ttlSeconds: number;
}

export function cachingFor(deps: ProxyDeps, op: Operation, model: string, body: Record<string, unknown>): Caching | undefined {
  const settings = deps.responseCache?.settings;
  // Cached answers are OpenAI's; a client format's are not cached.
  if (!settings || op.client || body.stream === true || !settings.callTypes.includes(op.callType)) return undefined;
  const controls = cacheControls(body);
  if (settings.optIn && !controls.useCache) return undefined;
  return { key: cacheKey(settings.namespace, op.callType, model, body), controls, ttlSeconds: controls.ttlSeconds ?? settings.ttlSeconds };
}

/** The stored answer for this request, if the cache has one and the request may use it. */
export async function cachedAnswer(deps: ProxyDeps, caching: Caching | undefined): Promise<string | undefined> {
  if (!caching || caching.controls.noCache) return undefined;
  return deps.responseCache!.cache.get(caching.key);
}

/**
 * A cache hit: the stored answer under a new id (each answer a client gets
 * has its own spend row), no upstream call, charged 0 and logged with
 * `cache_hit`. LiteLLM's header names the key.
 */
export function serveCached(
  deps: ProxyDeps,
  op: Operation,
  caller: Caller,
  model: string,
  key: string,
  cached: string,
  res: ServerResponse,
  call: { startTime: Date; endUser: string | undefined },
): number {
  const answer = JSON.parse(cached) as Record<string, unknown>;
  const responseId = typeof answer.id === "string" ? `${answer.id.split("-")[0]}-${randomUUID().replaceAll("-", "")}` : undefined;
  if (responseId) answer.id = responseId;
  const text = JSON.stringify(answer);
  res.statusCode = 200;
  res.setHeader("content-type", "application/json");
  res.setHeader("x-litellm-cache-key", key);
  res.setHeader("x-litellm-model-group", model);
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
  const usage = usageOf(answer) ?? NO_USAGE;
  deps.metrics.cacheHits.inc({ model_group: deps.router.deployments(model)[0]?.pattern ?? model });
  record(deps, op, caller, {
    model,
    usage,
    cost: 0,
    responseId,
    startTime: call.startTime,
    estimated: false,
    cacheKey: key,
    endUser: call.endUser,
  });
  return 0;
}
