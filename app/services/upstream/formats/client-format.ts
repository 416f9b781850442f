import type { Deployment } from "../../../config/model-config.js";
import type { StreamTranslator } from "../providers/provider.js";

/**
 * A request format other than OpenAI's chat that clients may speak to tandem
 * (Anthropic's Messages, OpenAI's Responses). The proxy pipeline (limits,
 * budgets, routing, retries, spend) works on OpenAI chat requests; a client
 * format converts its requests into one and the answers back. A deployment
 * that `speaks` the format itself is sent the client's own body instead, and
 * the client gets its answer in that format as it came (or as `native` says).
 */
export interface ClientFormat<Request> {
  speaks(deployment: Deployment): boolean;
  /** How a native exchange differs from bytes passed as they are (absent: it does not). */
  native?: NativeExchange;
  /**
   * A request continuing what one deployment keeps (a previous response): that deployment's id, and
   * the request as it knows it (its own ids). Absent or undefined: any deployment of the group.
   */
  pinned?(request: Request): { deploymentId: string; request: Request } | undefined;
  toChat(request: Request): Record<string, unknown>;
  /** An OpenAI chat completion (JSON text) in the client's format, for the model name the client asked for. */
  answer(completion: string, model: string): string;
  /** OpenAI SSE chunks → the client's stream. */
  stream(model: string): StreamTranslator;
  /** An error event in the client's stream format, for a stream broken off mid-way. */
  streamError(message: string): string;
}

/** A format whose native requests go to an operation of their own, and whose answers carry what tandem routes by (the Responses API's ids). */
export interface NativeExchange {
  /** The provider operation (on an OpenAI server) the client's body goes to. */
  path: string;
  /** A native answer as the client gets it. */
  answer(text: string, deployment: Deployment): string;
  /** A native stream: `read` turns it into OpenAI chunks, which is what billing reads; `write` is what the client gets. */
  stream(deployment: Deployment): { read: StreamTranslator; write: StreamTranslator };
}
