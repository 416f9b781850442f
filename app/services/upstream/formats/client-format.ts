import type { StreamTranslator } from "../providers/provider.js";

/**
 * A request format other than OpenAI's that clients may speak to tandem.
 * The proxy pipeline (limits, budgets, routing, retries, spend) works on
 * OpenAI chat requests; a client format converts its requests into one and
 * the answers back. `native` names the provider that speaks the format
 * itself: its deployments are sent the client's own body, and the client
 * gets their bytes unchanged.
 */
export interface ClientFormat<Request> {
  native: string;
  toChat(request: Request): Record<string, unknown>;
  /** An OpenAI chat completion (JSON text) in the client's format, for the model name the client asked for. */
  answer(completion: string, model: string): string;
  /** OpenAI SSE chunks → the client's stream. */
  stream(model: string): StreamTranslator;
  /** An error event in the client's stream format, for a stream broken off mid-way. */
  streamError(message: string): string;
}
