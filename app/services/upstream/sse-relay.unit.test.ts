// Streams reach the client as the upstream sends them, minus the usage-only
// chunk the client never asked for; billing reads id, text and usage on the way.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SseRelay } from "./sse-relay.js";

const events = [
  `data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}\n\n`,
  `data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"lo"}}],"usage":null}\n\n`,
  `data: {"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n`,
  `data: [DONE]\n\n`,
];
const stream = events.join("");

/** Feeds `text` cut into pieces of `size` bytes; returns what the client got. */
function relay(wantsUsage: boolean, size: number, text = stream) {
  const r = new SseRelay(wantsUsage);
  const bytes = new TextEncoder().encode(text);
  let out = "";
  for (let i = 0; i < bytes.length; i += size) {
    const piece = r.feed(bytes.slice(i, i + size));
    out += typeof piece === "string" ? piece : new TextDecoder().decode(piece);
  }
  return { out: out + r.end(), r };
}

describe("SSE relay", () => {
  for (const size of [1, 7, 64, 10_000]) {
    it(`client did not ask for usage: the usage-only chunk is dropped, the rest arrives intact (pieces of ${size} bytes)`, () => {
      const { out, r } = relay(false, size);
      assert.equal(out, events[0]! + events[1]! + "\n" + events[3]!);
      assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
      assert.equal(r.text, "Hello");
      assert.equal(r.id, "chatcmpl-1");
    });
    it(`client asked for usage: every byte passes unchanged (pieces of ${size} bytes)`, () => {
      const { out, r } = relay(true, size);
      assert.equal(out, stream);
      assert.equal(r.usage?.total_tokens, 7);
    });
  }

  it("usage carried on a chunk that also has choices is kept (some upstreams send it there)", () => {
    const text = `data: {"id":"c","choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n`;
    assert.equal(relay(false, 5, text).out, text);
  });

  it("legacy completions streams: text is read from choices[].text", () => {
    const text = `data: {"id":"cmpl-1","choices":[{"text":"abc","index":0}]}\n\ndata: [DONE]\n\n`;
    assert.equal(relay(false, 3, text).r.text, "abc");
  });

  it("a last line without a newline is still delivered and read", () => {
    const { out, r } = relay(false, 4, `data: {"id":"c","choices":[{"delta":{"content":"z"}}]}`);
    assert.equal(out, `data: {"id":"c","choices":[{"delta":{"content":"z"}}]}`);
    assert.equal(r.text, "z");
  });
});
