import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { fieldPath } from "../../config/field-path.js";
import { ApiError } from "../errors.js";

/** A client-side fallback: another model group, with body fields of its own (its own `messages`, say). */
export interface ClientFallback {
  model: string;
  overrides: Record<string, unknown>;
}

/** What a request asks of routing in LiteLLM's request fields, beside what the config says. */
export interface RequestRouting {
  /** `fallbacks` in the body: in place of the config's general fallbacks. */
  fallbacks?: ClientFallback[];
  /** `num_retries` in the body. */
  numRetries?: number;
  /** `timeout` in the body, or the `x-litellm-timeout` header (seconds → ms). */
  timeoutMs?: number;
  /** LiteLLM's testing switches, which its users put in their own CI. */
  mock: {
    /** `mock_response`: this text is the answer; no upstream is called. */
    response?: string;
    /** `mock_timeout`: the call times out after its timeout. */
    timeout?: boolean;
    /** `mock_testing_fallbacks`: the model group fails, so its fallbacks answer. */
    fallbacks?: boolean;
    /** `mock_testing_rate_limit_error`: the first call is a 429, so a retry answers. */
    rateLimit?: boolean;
  };
}

/** LiteLLM's routing fields: tandem reads them; no upstream is sent them. */
export const ROUTING_FIELDS = [
  "fallbacks",
  "context_window_fallbacks",
  "num_retries",
  "timeout",
  "mock_response",
  "mock_timeout",
  "mock_testing_fallbacks",
  "mock_testing_rate_limit_error",
] as const;

const Fields = z.object({
  fallbacks: z.array(z.union([z.string().min(1), z.object({ model: z.string().min(1) }).loose()])).nullish(),
  num_retries: z.number().int().min(0).max(100).nullish(),
  timeout: z.number().positive().max(3600).nullish(),
  mock_response: z.string().nullish(),
  mock_timeout: z.boolean().nullish(),
  mock_testing_fallbacks: z.boolean().nullish(),
  mock_testing_rate_limit_error: z.boolean().nullish(),
});

/** Reads the request's routing fields; a malformed one is a 400 naming it. */
export function requestRouting(body: Record<string, unknown>, headers: IncomingHttpHeaders): RequestRouting {
  // Most requests name none of them: no schema parse on the proxy's hot path for those.
  if (headers["x-litellm-timeout"] === undefined && !ROUTING_FIELDS.some((field) => field in body)) return { mock: {} };
  const parsed = Fields.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = fieldPath(issue.path);
    throw ApiError.badRequest(`${field}: ${issue.message}`, field);
  }
  const fields = parsed.data;
  const header = headers["x-litellm-timeout"];
  let timeoutS = fields.timeout ?? undefined;
  if (typeof header === "string" && header !== "") {
    const seconds = Number(header);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
      throw ApiError.badRequest(
        `x-litellm-timeout: ${JSON.stringify(header)} is not a number of seconds in (0, 3600]`,
        "x-litellm-timeout",
      );
    timeoutS = seconds;
  }
  return {
    ...(fields.fallbacks
      ? {
          fallbacks: fields.fallbacks.map((f) => {
            if (typeof f === "string") return { model: f, overrides: {} };
            const { model, ...overrides } = f;
            return { model, overrides };
          }),
        }
      : {}),
    ...(fields.num_retries != null ? { numRetries: fields.num_retries } : {}),
    ...(timeoutS !== undefined ? { timeoutMs: timeoutS * 1000 } : {}),
    mock: {
      ...(fields.mock_response != null ? { response: fields.mock_response } : {}),
      ...(fields.mock_timeout ? { timeout: true } : {}),
      ...(fields.mock_testing_fallbacks ? { fallbacks: true } : {}),
      ...(fields.mock_testing_rate_limit_error ? { rateLimit: true } : {}),
    },
  };
}

/** Seconds as Python prints a float (LiteLLM's x-litellm-timeout): 1 → "1.0", 0.001 → "0.001". */
export const pythonSeconds = (ms: number) => {
  const seconds = ms / 1000;
  return Number.isInteger(seconds) ? seconds.toFixed(1) : String(seconds);
};
