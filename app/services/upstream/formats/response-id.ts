// A response the Responses API keeps lives on the deployment that made it:
// a follow-up (previous_response_id) or a retrieval must reach that same
// deployment, from any pod. The id tandem hands out carries the deployment,
// so no pod needs to remember anything. The layout is LiteLLM's, so a
// conversation begun on a LiteLLM proxy carries on through tandem; tandem
// writes it in base64url (LiteLLM in base64), which stays one path segment
// in /v1/responses/{id} even for clients that do not escape it.

/** What a tandem response id says: which deployment made it, and the id the upstream itself gave it. */
export interface ResponseOrigin {
  provider: string;
  deploymentId: string;
  upstreamId: string;
}

const LAYOUT = /^litellm:custom_llm_provider:([^;]*);model_id:([^;]*);response_id:(.+)$/s;

export function encodeResponseId(origin: ResponseOrigin): string {
  const text = `litellm:custom_llm_provider:${origin.provider};model_id:${origin.deploymentId};response_id:${origin.upstreamId}`;
  return `resp_${Buffer.from(text, "utf8").toString("base64url")}`;
}

/** The origin of an id tandem (or LiteLLM) handed out; undefined for any other id (the upstream's own, a client's guess). */
export function decodeResponseId(id: string): ResponseOrigin | undefined {
  if (!id.startsWith("resp_")) return undefined;
  const encoded = id.slice(5);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) return undefined;
  // Node's base64 decoder reads the url-safe alphabet too.
  const match = LAYOUT.exec(Buffer.from(encoded, "base64").toString("utf8"));
  if (!match || !match[2]) return undefined;
  return { provider: match[1]!, deploymentId: match[2], upstreamId: match[3]! };
}
