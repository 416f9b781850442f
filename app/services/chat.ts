import type { ModelRoute } from "../config/model-config.js";
import type { Caller } from "./auth.js";
import { ApiError } from "./errors.js";
import type { Usage } from "./spend.js";
import type { BudgetScope } from "./budget-reservations.js";

/**
 * May this caller use this model now? Model configured, allowed for the key
 * and its team (an empty list allows every model, as in LiteLLM). Budgets are
 * checked next, by the reservations (budget-reservations.ts).
 */
export function checkAccess(caller: Caller, modelName: string, models: Map<string, ModelRoute>): ModelRoute {
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

/** The budgets a key's request is checked against: the key's and its team's, with what is spent so far. */
export function budgetScopes(caller: Caller, unwritten: (by: { token?: string; teamId?: string }) => number): BudgetScope[] {
  if (caller.kind === "master") return [];
  const { key } = caller;
  const scopes: BudgetScope[] = [];
  if (key.max_budget !== null)
    scopes.push({ kind: "key", id: key.token, maxBudget: key.max_budget, spent: key.spend + unwritten({ token: key.token }) });
  if (key.team && key.team.max_budget !== null) {
    const { team } = key;
    scopes.push({ kind: "team", id: team.team_id, maxBudget: team.max_budget!, spent: team.spend + unwritten({ teamId: team.team_id }) });
  }
  return scopes;
}
