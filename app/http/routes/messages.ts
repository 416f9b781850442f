// Anthropic's Messages API (/v1/messages, /v1/messages/count_tokens) for
// clients that speak it — the Anthropic SDK, Claude Code pointed at the
// proxy — served by any model group through the same pipeline as chat.
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf } from "../auth.js";
import { validate } from "../validate.js";
import { checkAccess, resolveModel } from "../../services/access/access.js";
import { promptTokens } from "../../services/billing/token-estimate.js";
import { anthropicMessages, messagesToChat, type AnthropicRequest } from "../../services/upstream/formats/anthropic-messages.js";
import type { ClientFormat } from "../../services/upstream/formats/client-format.js";

const Block = z.object({ type: z.string().min(1) }).loose();
const fields = {
  model: z.string().min(1),
  messages: z
    .array(z.object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(Block).min(1)]) }).loose())
    .min(1),
  system: z.union([z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() }).loose())]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z
    .array(
      // Client tools carry an input_schema; Anthropic's server tools (web search, bash…) a type instead.
      z
        .object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()).optional() })
        .loose(),
    )
    .optional(),
  tool_choice: z
    .object({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().min(1).optional() })
    .loose()
    .optional(),
  metadata: z.object({ user_id: z.string().optional() }).loose().optional(),
};

/** A Messages request: what tandem reads is checked; anything else goes to Anthropic deployments as it came. */
export const MessagesRequest = z.object({ ...fields, max_tokens: z.number().int().positive() }).loose();
const CountTokensRequest = z.object(fields).loose();

/** The pipeline's view of the format (its requests arrive validated by MessagesRequest). */
export const messagesFormat = anthropicMessages as unknown as ClientFormat<Record<string, unknown>>;

/** /v1/messages/count_tokens: counted locally (OpenAI's encodings, an estimate as for a cut stream), for any model group. */
export function messagesRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post("/v1/messages/count_tokens", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const body = validate(CountTokensRequest, req.body) as unknown as AnthropicRequest;
    const model = resolveModel(caller, body.model);
    checkAccess(caller, model, ctx.router);
    const chat = messagesToChat(body);
    const tools = body.tools ? JSON.stringify(body.tools) : "";
    const upstreamModel = ctx.router.deployments(model)[0]?.upstreamModel ?? model;
    res.json({
      input_tokens:
        promptTokens(upstreamModel, chat.messages) + (tools ? promptTokens(upstreamModel, [{ role: "system", content: tools }]) - 3 : 0),
    });
  });
  return router;
}
