import type { ServerResponse } from "node:http";
import type { AppContext } from "../context.js";
import { sendJson } from "../errors.js";
import { ApiError } from "../../services/errors.js";
import type { ProxyCall } from "./openai.js";

/** Each model is a call of its own: a batch is bounded so one request cannot fan out without limit. */
const MAX_MODELS = 10;

/** Headers a loopback call carries over: the caller's credentials (LiteLLM's headers) and nothing else. */
const CARRIED = ["authorization", "x-litellm-api-key", "api-key", "x-api-key"];

/**
 * LiteLLM's batch completions: `"model": "a,b"` asks every named model the
 * same question and answers a JSON list, one completion per model, in order.
 * Each model's call goes back through this proxy (loopback), so each is
 * authorized, limited, routed and charged exactly as a call of its own.
 */
export async function batchCompletions(ctx: AppContext, call: ProxyCall, res: ServerResponse, path: string): Promise<void> {
  const body = call.body as Record<string, unknown>;
  const models = String(body.model)
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  if (models.length === 0 || models.length > MAX_MODELS)
    throw ApiError.badRequest(`model: a batch names 1 to ${MAX_MODELS} models, comma-separated`, "model");
  if (body.stream === true) throw ApiError.badRequest("stream: batch completions (a comma-separated model) cannot stream", "stream");
  if (!ctx.selfBase) throw new ApiError(503, "batch completions are not available until the proxy listens", "service_unavailable");
  const headers: Record<string, string> = { "content-type": "application/json", "x-request-id": call.requestId };
  for (const name of CARRIED) {
    const value = call.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  // A client that hangs up stops every model's call.
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const asked = Promise.all(
    models.map(async (model) => {
      const answer = await fetch(`${ctx.selfBase}${path}`, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...body, model }),
        signal: abort.signal,
      });
      return { status: answer.status, retryAfter: answer.headers.get("retry-after"), json: (await answer.json()) as unknown };
    }),
  );
  let answers: Awaited<typeof asked>;
  try {
    answers = await asked;
  } catch (error) {
    if (abort.signal.aborted) return; // nobody is left to answer
    throw error;
  }
  // One model's failure is the batch's: its status, error and retry-after, as a call of its own would
  // have had. The others were answered, and charged, as calls of their own (as in LiteLLM's batch).
  const failed = answers.find((a) => a.status >= 400);
  if (failed?.retryAfter) res.setHeader("retry-after", failed.retryAfter);
  if (failed) sendJson(res, failed.status, failed.json);
  else
    sendJson(
      res,
      200,
      answers.map((a) => a.json),
    );
}
