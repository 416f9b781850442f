// OpenAI's Responses API on the fake upstream: answers echo the input and are
// kept, per upstream model (as one provider account keeps its own), so a
// follow-up that reaches another deployment does not find its previous response.
import type { IncomingMessage, ServerResponse } from "node:http";

type Json = Record<string, unknown>;
interface Kept {
  response: Json;
  input: Json[];
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};
const notFound = (res: ServerResponse, id: string, param: string | null) =>
  json(res, param ? 400 : 404, {
    error: {
      message: `Response with id '${id}' not found.`,
      type: "invalid_request_error",
      param,
      code: param ? "previous_response_not_found" : null,
    },
  });

function inputText(input: unknown): string {
  if (typeof input === "string") return input;
  const last = (input as Json[]).at(-1);
  const content = last?.content;
  if (typeof content === "string") return content;
  return Array.isArray(content) ? (content as Json[]).map((part) => String(part.text ?? "")).join("") : "";
}

export class FakeResponses {
  private readonly kept = new Map<string, Kept>();

  /** Serves /responses and /responses/{id}[/cancel|/input_items]; false when the path is not the Responses API's. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, body: Json | undefined): boolean {
    const match = /\/responses(?:\/([^/]+)(\/cancel|\/input_items)?)?$/.exec(path);
    if (!match) return false;
    const [, id, action] = match;
    if (!id) {
      if (req.method !== "POST" || !body) return false;
      this.create(res, body);
      return true;
    }
    const kept = this.kept.get(decodeURIComponent(id));
    if (!kept) return (notFound(res, id, null), true);
    if (action === "/input_items") json(res, 200, { object: "list", data: kept.input, has_more: false });
    else if (action === "/cancel")
      json(res, 400, { error: { message: "Cannot cancel a completed response.", type: "invalid_request_error", param: null, code: null } });
    else if (req.method === "DELETE") {
      this.kept.delete(decodeURIComponent(id));
      json(res, 200, { id, object: "response", deleted: true });
    } else json(res, 200, kept.response);
    return true;
  }

  private create(res: ServerResponse, body: Json): void {
    const model = String(body.model);
    const previous = typeof body.previous_response_id === "string" ? this.kept.get(body.previous_response_id) : undefined;
    if (typeof body.previous_response_id === "string" && previous?.response.model !== model)
      return notFound(res, body.previous_response_id, "previous_response_id");
    const said = inputText(body.input);
    const text = previous ? `echo: ${said} (after: ${String((previous.response.output as Json[])[0]?.id)})` : `echo: ${said}`;
    const id = `resp_${Math.random().toString(36).slice(2)}`;
    const words = text.split(/\s+/);
    const inputTokens = said.split(/\s+/).length;
    const item = {
      id: `msg_${id.slice(5)}`,
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    };
    const usage = {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: words.length,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + words.length,
    };
    const done = {
      id,
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      status: "completed",
      model,
      output: [item],
      usage,
      previous_response_id: body.previous_response_id ?? null,
    };
    this.kept.set(id, {
      response: done,
      input: typeof body.input === "string" ? [{ type: "message", role: "user", content: body.input }] : (body.input as Json[]),
    });
    if (body.stream !== true) return json(res, 200, done);
    res.writeHead(200, { "content-type": "text/event-stream" });
    let sequence = 0;
    const event = (type: string, data: Json) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
    const started = { ...done, status: "in_progress", output: [], usage: null };
    event("response.created", { response: started });
    event("response.in_progress", { response: started });
    event("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } });
    event("response.content_part.added", {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    for (const [i, word] of words.entries())
      event("response.output_text.delta", { item_id: item.id, output_index: 0, content_index: 0, delta: i === 0 ? word : ` ${word}` });
    event("response.output_text.done", { item_id: item.id, output_index: 0, content_index: 0, text });
    event("response.content_part.done", { item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] });
    event("response.output_item.done", { output_index: 0, item });
    event("response.completed", { response: done });
    res.end();
  }
}
