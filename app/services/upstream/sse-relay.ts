import type { Usage } from "../billing/spend.js";
import { idOf, safeJson, usageOf } from "./upstream-response.js";

/**
 * Passes an upstream SSE stream to the client as it arrives, reading what
 * billing needs on the way: the completion id, the text so far, the usage.
 * tandem always asks the upstream for usage (`stream_options.include_usage`),
 * because a stream without it cannot be charged; a client that did not ask
 * for it does not get the usage-only chunk (`choices: []`), which code that
 * reads `chunk.choices[0]` would trip over. Then whole lines are forwarded,
 * so a chunk split mid-line waits for its end; otherwise bytes pass as they
 * come.
 */
export class SseRelay {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  usage: Usage | undefined;
  /** The completion's id, as the client sees it (the spend row's identity). */
  id: string | undefined;
  /** The completion text streamed so far: what a stream cut short is charged for. */
  text = "";

  constructor(private readonly clientWantsUsage: boolean) {}

  /** What to send the client for this chunk of the upstream stream. */
  feed(chunk: Uint8Array): Uint8Array | string {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let out = "";
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline + 1);
      this.buffer = this.buffer.slice(newline + 1);
      if (this.observe(line.trim())) out += line;
    }
    return this.clientWantsUsage ? chunk : out;
  }

  /** What is left once the upstream stream ends (a last line without a newline). */
  end(): string {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = "";
    const keep = rest ? this.observe(rest.trim()) : false;
    return !this.clientWantsUsage && keep ? rest : "";
  }

  /** Reads one line; whether the client should get it. */
  private observe(line: string): boolean {
    if (!line.startsWith("data:")) return true;
    const data = line.slice(5).trim();
    if (data === "[DONE]") return true;
    const event = safeJson(data) as { choices?: Array<{ delta?: { content?: unknown }; text?: unknown }> } | undefined;
    this.id ??= idOf(event);
    for (const choice of event?.choices ?? []) {
      const piece = choice.delta?.content ?? choice.text;
      if (typeof piece === "string") this.text += piece;
    }
    const usage = usageOf(event);
    if (!usage) return true;
    this.usage = usage;
    return this.clientWantsUsage || (event?.choices?.length ?? 0) > 0;
  }
}
