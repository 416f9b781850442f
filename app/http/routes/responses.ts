// OpenAI's Responses API: POST /v1/responses is a proxied operation (openai.ts); the routes here act
// on a response a deployment keeps, found by the id tandem handed out.
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { keptResponse, type KeptResponseAction } from "../../services/proxy/kept-responses.js";
import { responsesApi } from "../../services/upstream/formats/responses-api.js";
import type { ResponsesRequest } from "../../services/upstream/formats/responses-request.js";
import type { ClientFormat } from "../../services/upstream/formats/client-format.js";

const Part = z.object({ type: z.string().min(1) }).loose();
const Item = z
  .object({
    type: z.string().min(1).optional(),
    role: z.string().min(1).optional(),
    content: z.union([z.string(), z.array(Part)]).optional(),
  })
  .loose();

/** A Responses request: what tandem reads is checked; anything else goes to deployments that speak the API as it came. */
export const ResponsesRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(Item)]),
    instructions: z.string().nullish(),
    stream: z.boolean().optional(),
    previous_response_id: z.string().min(1).nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    tools: z.array(z.object({ type: z.string().min(1), name: z.string().min(1).optional() }).loose()).optional(),
    tool_choice: z.union([z.enum(["auto", "none", "required"]), z.object({ type: z.string().min(1) }).loose()]).optional(),
    parallel_tool_calls: z.boolean().optional(),
    user: z.string().optional(),
  })
  .loose();

/** The pipeline's view of the format (its requests arrive validated by ResponsesRequestSchema). */
export const responsesFormat = responsesApi as unknown as ClientFormat<Record<string, unknown>>;
export type { ResponsesRequest };

const ACTIONS: Array<[string, KeptResponseAction]> = [
  ["get", { method: "GET", suffix: "" }],
  ["delete", { method: "DELETE", suffix: "" }],
  ["post", { method: "POST", suffix: "/cancel" }],
  ["get", { method: "GET", suffix: "/input_items" }],
];

export function responsesRoutes(ctx: AppContext): Router {
  const router = Router();
  for (const [verb, action] of ACTIONS) {
    for (const prefix of ["/v1/responses", "/responses"]) {
      router[verb as "get" | "delete" | "post"](`${prefix}/:id${action.suffix}`, async (req, res) => {
        const caller = await callerOf(ctx, req.headers);
        const at = req.originalUrl.indexOf("?");
        const abort = new AbortController();
        res.on("close", () => abort.abort());
        const answer = await keptResponse(
          ctx,
          caller,
          String(req.params.id),
          action,
          at >= 0 ? req.originalUrl.slice(at) : "",
          abort.signal,
        );
        res
          .status(answer.status)
          .type(answer.contentType ?? "application/json")
          .send(answer.body);
      });
    }
  }
  return router;
}
