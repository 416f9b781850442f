import type { IncomingHttpHeaders } from "node:http";
import { ApiError } from "../errors.js";
import type { ClientFormat } from "../upstream/formats/client-format.js";

/** A request in a client format: as sent, as a chat request (or why it cannot be one), and the headers its own provider reads. */
export interface ClientRequest {
  body: Record<string, unknown>;
  chat: Record<string, unknown>;
  untranslatable?: ApiError;
  headers: Record<string, string>;
  /** The one deployment that can serve it (it continues a response that deployment keeps). */
  pinned?: string;
}

// Anthropic's beta features are switched on by header: a deployment that speaks the format gets it.
const NATIVE_HEADERS = ["anthropic-beta"];

export function clientRequest(
  format: ClientFormat<Record<string, unknown>>,
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
): ClientRequest {
  const carried = Object.fromEntries(NATIVE_HEADERS.flatMap((name) => (typeof headers[name] === "string" ? [[name, headers[name]]] : [])));
  const pin = format.pinned?.(body);
  const native = { body: pin?.request ?? body, headers: carried, ...(pin ? { pinned: pin.deploymentId } : {}) };
  try {
    return { ...native, chat: format.toChat(body) };
  } catch (error) {
    // Content only the format's own provider takes (documents, server tools): fine for its deployments.
    if (!(error instanceof ApiError)) throw error;
    return { ...native, chat: { model: body.model, stream: body.stream, messages: [] }, untranslatable: error };
  }
}
