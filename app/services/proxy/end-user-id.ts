import type { IncomingHttpHeaders } from "node:http";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Where LiteLLM looks for the end user ("customer") a request names, first found wins. */
const HEADERS = ["x-litellm-customer-id", "x-litellm-end-user-id"] as const;

/**
 * The end user a request names, in LiteLLM's order: the `x-litellm-customer-id` header, then
 * `x-litellm-end-user-id`, then the body's `user` (OpenAI), `litellm_metadata.user`,
 * `metadata.user_id` (Anthropic) and `safety_identifier` (the Responses API). Headers first, so a
 * gateway in front of tandem can attribute calls whose clients set no `user`.
 */
export function endUserOf(body: Record<string, unknown>, headers: IncomingHttpHeaders = {}): string | undefined {
  for (const name of HEADERS) {
    const value = headers[name];
    if (typeof value === "string" && value.length > 0) return clean(value);
  }
  const named =
    body.user ??
    (body.litellm_metadata as { user?: unknown } | undefined)?.user ??
    (body.metadata as { user_id?: unknown } | undefined)?.user_id ??
    body.safety_identifier;
  return typeof named === "string" && named.length > 0 ? clean(named) : undefined;
}

// Lone surrogates become U+FFFD here, as they would on their way to the database anyway.
const clean = (id: string) => id.slice(0, 256).replace(LONE_SURROGATE, "\uFFFD");
