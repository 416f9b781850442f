import type { Deployment } from "../../config/model-config.js";
import type { Usage } from "../billing/spend.js";
import type { ClientFormat } from "../upstream/formats/client-format.js";
import type { OperationPath } from "../upstream/providers/provider.js";

/** What the proxy pipeline needs to know of one operation: where it goes upstream, how its spend is recorded, how it streams. */
export interface Operation {
  upstreamPath: OperationPath;
  /** LiteLLM's call_type for the spend row. */
  callType: string;
  /** The prompt, as chat messages, for estimating a stream cut short. */
  prompt(body: Record<string, unknown>): unknown;
  streams: boolean;
  /** Answers images (charged per image where the deployment has a per-image price). */
  images?: true;
  /** A client format other than OpenAI's chat (Anthropic's Messages, OpenAI's Responses): its body is converted to a chat body and back. */
  client?: ClientFormat<Record<string, unknown>>;
  /** Providers report no usage for it (moderations): recorded at 0 instead of warned about. */
  unmetered?: true;
}

/** A request body as the pipeline takes it: validated, with what the proxy itself reads; the rest passes through. */
export type ProxyBody = {
  model: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
} & Record<string, unknown>;

/** The usage of an answer that used no tokens (an image priced per image, a moderation, a cache hit). */
export const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/** Whether the deployment speaks the request's own client format (an Anthropic client, an anthropic/ model): then it is passed through. */
export const speaksClientFormat = (op: Operation, deployment: Deployment) => op.client?.speaks(deployment) ?? false;
