import type { Deployment } from "../../../config/model-config.js";

/** The OpenAI operations a deployment may be asked for (the upstream path tandem would use on an OpenAI server). */
export type OperationPath = "/chat/completions" | "/completions" | "/embeddings" | "/images/generations" | "/moderations";

/** One HTTP request to a provider, ready to send. */
export interface WireRequest {
  path: string;
  headers: Record<string, string>;
  /** Absent for a GET or DELETE. */
  body?: string;
  /** POST unless said (a kept response retrieved or deleted). */
  method?: "GET" | "DELETE" | "POST";
}

/** A client's request in the provider's own format: its body (with the deployment's model) and the headers that format reads. */
export interface NativeRequest {
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** The OpenAI operation it goes to, when the format has one of its own (`/responses`); absent: the provider's own. */
  path?: string;
}

/** Turns a provider's stream into OpenAI's chat.completion.chunk SSE, piece by piece. */
export interface StreamTranslator {
  feed(chunk: Uint8Array): string;
  end(): string;
}

/**
 * What tandem needs to speak to one provider: the request for an
 * OpenAI-shaped body, and the answer back in OpenAI's shape. Usage, spend
 * and the relay stay provider-blind: they only ever see OpenAI's shape.
 */
export interface ProviderAdapter {
  /** The operations this provider serves; another is refused with a 400 naming the model. */
  readonly operations: readonly OperationPath[];
  /** `native`: the client's own body and headers, when the client speaks this provider's format (sent instead of a translation). */
  request(
    deployment: Deployment,
    operation: OperationPath,
    payload: Record<string, unknown>,
    stream: boolean,
    native?: NativeRequest,
  ): Promise<WireRequest> | WireRequest;
  /** A successful non-streamed answer, in OpenAI's shape (absent: it already is). */
  answer?(text: string, deployment: Deployment): string;
  /** A successful stream, as OpenAI SSE (absent: it already is). */
  stream?(deployment: Deployment): StreamTranslator;
  /** A failure body, as OpenAI's/LiteLLM's {"error": {...}} (absent: passed on as it is). */
  failure?(status: number, text: string): string;
}
