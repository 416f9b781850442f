import { SseRelay } from "./sse-relay.js";
import type { StreamTranslator } from "./providers/provider.js";

const asText = (piece: Uint8Array | string) => (typeof piece === "string" ? piece : Buffer.from(piece).toString("utf8"));

/**
 * The stages a relayed stream passes: the provider's format translated to
 * OpenAI chunks, read by the SseRelay for billing, then written in the
 * client's format. A deployment speaking the client's own format (`native`)
 * is read the same way but its bytes go to the client unchanged ("as-is") or
 * through the format's own rewriting.
 */
export class StreamPipeline {
  readonly relay: SseRelay;

  constructor(
    clientWantsUsage: boolean,
    private readonly provider: StreamTranslator | undefined,
    private readonly client: StreamTranslator | undefined,
    private readonly native: "as-is" | StreamTranslator | undefined,
  ) {
    // A client format needs the usage chunk to write its own usage.
    this.relay = new SseRelay(clientWantsUsage || client !== undefined);
  }

  /** Whether the client gets something other than the upstream's content type. */
  get translated(): boolean {
    return (this.provider !== undefined && !this.native) || this.client !== undefined;
  }

  feed(chunk: Uint8Array): Uint8Array | string {
    const observed = this.relay.feed(this.provider ? Buffer.from(this.provider.feed(chunk)) : chunk);
    if (this.native) return this.native === "as-is" ? chunk : this.native.feed(chunk);
    return this.client ? this.client.feed(typeof observed === "string" ? Buffer.from(observed) : observed) : observed;
  }

  end(): string {
    const tail = this.provider ? asText(this.relay.feed(Buffer.from(this.provider.end()))) : "";
    const observed = tail + this.relay.end();
    if (this.native) return this.native === "as-is" ? "" : this.native.end();
    return this.client ? this.client.feed(Buffer.from(observed)) + this.client.end() : observed;
  }
}
