import type { ModelRoute } from "../config/model-config.js";
import type { Caller } from "./auth.js";
import { ApiError } from "./errors.js";
import type { Usage } from "./spend.js";

/**
 * May this caller use this model now? Model configured, allowed for the key
 * and its team (an empty list allows every model, as in LiteLLM), and both
 * budgets not yet spent. All inputs come from reads done at authentication.
 */
/** Spend this pod has recorded and not yet written, for a key (hashed token) or a team. */
export type Unwritten = (by: { token?: string; teamId?: string | null }) => number;

export function checkAccess(
  caller: Caller,
  modelName: string,
  models: Map<string, ModelRoute>,
  unwritten: Unwritten = () => 0,
): ModelRoute {
  const route = models.get(modelName);
  if (!route) {
    const known = [...models.keys()].join(", ") || "none";
    throw ApiError.badRequest(`model: ${JSON.stringify(modelName)} is not configured on this proxy (configured: ${known})`, "model");
  }
  if (caller.kind === "master") return route;
  const { key } = caller;
  if (key.models.length > 0 && !key.models.includes(modelName)) {
    throw ApiError.unauthorized(
      `key not allowed to access model ${modelName}; allowed: ${key.models.join(", ")}`,
      "key_model_access_denied",
    );
  }
  if (key.team && key.team.models.length > 0 && !key.team.models.includes(modelName)) {
    throw ApiError.unauthorized(
      `team not allowed to access model ${modelName}; allowed: ${key.team.models.join(", ")}`,
      "team_model_access_denied",
    );
  }
  // The stored spend plus what this pod has recorded but not yet written (batched).
  const keySpend = key.spend + (key.max_budget !== null ? unwritten({ token: key.token }) : 0);
  if (key.max_budget !== null && keySpend >= key.max_budget) {
    throw ApiError.budgetExceeded(`Budget has been exceeded! Key spend: ${keySpend}, max budget: ${key.max_budget}`);
  }
  const teamSpend = key.team ? key.team.spend + (key.team.max_budget != null ? unwritten({ teamId: key.team.team_id }) : 0) : 0;
  if (key.team?.max_budget != null && teamSpend >= key.team.max_budget) {
    throw ApiError.budgetExceeded(`Budget has been exceeded! Team spend: ${teamSpend}, max budget: ${key.team.max_budget}`);
  }
  return route;
}

/** POSTs to the upstream's /chat/completions; network failures and timeouts become 502/504. */
export async function callUpstream(route: ModelRoute, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(route.timeoutMs);
  const payload: Record<string, unknown> = { ...body, model: route.upstreamModel };
  // Streams carry usage only when asked; without it the cost would be unknown.
  if (payload.stream === true) {
    const options = typeof payload.stream_options === "object" && payload.stream_options !== null ? payload.stream_options : {};
    payload.stream_options = { ...options, include_usage: true };
  }
  try {
    return await fetch(`${route.apiBase}/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: payload.stream === true ? "text/event-stream" : "application/json",
        ...(route.apiKey ? { authorization: `Bearer ${route.apiKey}` } : {}),
      },
      body: JSON.stringify(payload),
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    if (timeout.aborted) throw new ApiError(504, `upstream for ${route.name} timed out after ${route.timeoutMs / 1000}s`, "timeout", 504);
    if (signal.aborted) throw new ApiError(499, "client closed the request", "client_closed_request", 499);
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ApiError(502, `upstream for ${route.name} unreachable (${cause})`, "upstream_error", 502);
  }
}

/** Reads `usage` out of an SSE stream as it passes through, without holding it back. */
export class UsageTap {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  usage: Usage | undefined;
  /** The completion's id, as the client sees it (the spend row's identity). */
  id: string | undefined;
  /** The completion text streamed so far: what a stream cut short is charged for. */
  text = "";

  feed(chunk: Uint8Array): void {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") continue;
      const event = safeJson(data);
      this.id ??= idOf(event);
      for (const choice of (event as { choices?: Array<{ delta?: { content?: unknown } }> } | undefined)?.choices ?? []) {
        if (typeof choice.delta?.content === "string") this.text += choice.delta.content;
      }
      const usage = usageOf(event);
      if (usage) this.usage = usage;
    }
  }
}

export function usageOf(value: unknown): Usage | undefined {
  const usage = (value as { usage?: Partial<Usage> } | undefined)?.usage;
  if (!usage || typeof usage.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") return undefined;
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens };
}

/** The upstream's response id (`chatcmpl-…`), when it sent a usable one. */
export function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && /^[\w.:-]{1,200}$/.test(id) ? id : undefined;
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
