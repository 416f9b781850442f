import type { StreamTranslator } from "./provider.js";

/**
 * Splits a server-sent event stream into its `data:` payloads, across chunk
 * boundaries (a chunk may end mid-line). `event:` lines are left out: the
 * providers tandem reads repeat the event's type inside its data.
 */
export class SseLines {
  private buffer = "";
  private readonly decoder = new TextDecoder();

  feed(chunk: Uint8Array): string[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const lines = this.buffer.split("\n");
    this.buffer = lines.pop() ?? "";
    return lines.flatMap(dataOf);
  }

  end(): string[] {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = "";
    return dataOf(rest);
  }
}

function dataOf(line: string): string[] {
  const trimmed = line.trim();
  return trimmed.startsWith("data:") ? [trimmed.slice(5).trim()] : [];
}

/**
 * A StreamTranslator over an SSE stream whose `data:` payloads each translate
 * on their own: the split across chunks is done here, once, for every format.
 */
export abstract class SseTranslator implements StreamTranslator {
  private readonly lines = new SseLines();

  feed(chunk: Uint8Array): string {
    return this.lines
      .feed(chunk)
      .map((data) => this.translate(data))
      .join("");
  }

  end(): string {
    return (
      this.lines
        .end()
        .map((data) => this.translate(data))
        .join("") + this.closing()
    );
  }

  /** One payload (the JSON text after `data:`, or `[DONE]`) in the target format. */
  protected abstract translate(data: string): string;

  /** A payload's JSON object; undefined for one that is not (a keep-alive, a comment): skipped, never fatal. */
  protected json(data: string): Record<string, unknown> | undefined {
    try {
      const value: unknown = JSON.parse(data);
      return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** What the upstream's end of the stream adds once every payload is translated. */
  protected closing(): string {
    return "";
  }
}
