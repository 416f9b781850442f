import { createHash } from "node:crypto";
import { z } from "zod";
import { ApiError } from "../errors.js";

/** A request's own say over the cache (LiteLLM's `cache` body field). */
export interface CacheControls {
  /** Do not answer from the cache (the answer may still be stored). */
  noCache: boolean;
  /** Do not store this answer. */
  noStore: boolean;
  /** How long to keep this answer, seconds. */
  ttlSeconds?: number;
  /** Asks for the cache where it is off by default (cache_params.mode default_off). */
  useCache: boolean;
}

const Controls = z
  .object({
    "no-cache": z.boolean().optional(),
    "no-store": z.boolean().optional(),
    ttl: z.number().positive().optional(),
    "s-maxage": z.number().nonnegative().optional(),
    "use-cache": z.boolean().optional(),
  })
  .loose();

/** The `cache` field of a body; a malformed one is a 400 naming it. */
export function cacheControls(body: Record<string, unknown>): CacheControls {
  if (body.cache === undefined || body.cache === null) return { noCache: false, noStore: false, useCache: false };
  const parsed = Controls.safeParse(body.cache);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ["cache", ...(issue?.path ?? []).map(String)].join(".");
    throw new ApiError(400, `${field}: ${issue?.message ?? "invalid"}`, "invalid_request_error", field);
  }
  const c = parsed.data;
  return {
    noCache: c["no-cache"] === true || c["s-maxage"] === 0,
    noStore: c["no-store"] === true,
    ttlSeconds: c.ttl,
    useCache: c["use-cache"] === true,
  };
}

// Fields that say how to run or log a request, not what it asks: two requests differing only in
// them get the same answer.
const NOT_THE_QUESTION = new Set(["cache", "metadata", "stream", "stream_options"]);

/**
 * The cache key of a request: the model group it was sent to and every
 * other field of its body, serialized with sorted keys so the order a
 * client writes them in does not matter.
 */
export function cacheKey(namespace: string, callType: string, model: string, body: Record<string, unknown>): string {
  const question: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) if (!NOT_THE_QUESTION.has(name) && name !== "model") question[name] = value;
  const hash = createHash("sha256").update(canonical({ callType, model, question })).digest("hex");
  return `${namespace}:${hash}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}
