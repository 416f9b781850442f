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
