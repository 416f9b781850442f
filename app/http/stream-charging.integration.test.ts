// A stream cut short is still charged: the provider bills what it generated.
// A client that hangs up mid-stream, and an upstream that drops the
// connection mid-stream, both leave a spend row with the prompt and the
// completion streamed so far, counted with the model's tokenizer and marked
// as estimated; the client of a broken-off stream gets an error event.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { hashKey } from "../services/access/key-hash.js";

interface Row {
  prompt_tokens: number;
  completion_tokens: number;
  spend: number;
  metadata: { usage_estimated?: boolean };
}

describe("streams cut short are charged", () => {
  let proxy: Proxy;
  let key: string;

  before(async () => {
    proxy = await startProxy({ SPEND_FLUSH_INTERVAL_MS: "100" });
    const res = await fetch(`${proxy.base}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ models: ["slow-model", "resetting"] }),
    });
    key = ((await res.json()) as { key: string }).key;
  });
  after(() => proxy?.stop());

  const stream = (model: string, content: string, signal?: AbortSignal) =>
    fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content }] }),
      signal,
    });

  const rows = async (): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: proxy.pair.primary.adminUrl });
    await client.connect();
    try {
      return (
        await client.query<Row>("SELECT prompt_tokens, completion_tokens, spend, metadata FROM tandem_spend_rows WHERE api_key = $1", [
          hashKey(key),
        ])
      ).rows;
    } finally {
      await client.end();
    }
  };

  it("a client that hangs up mid-stream is charged the prompt and what was streamed, marked estimated", async () => {
    const before = (await rows()).length;
    const abort = new AbortController();
    const res = await stream("slow-model", "one two three four five six seven eight nine ten", abort.signal);
    const reader = res.body!.getReader();
    let received = "";
    while (!received.includes(" w") && !received.includes("two")) received += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const all = await eventually(rows, (r) => r.length === before + 1, 30_000);
    const row = all.at(-1)!;
    assert.equal(row.metadata.usage_estimated, true);
    assert.ok(row.prompt_tokens > 10, `prompt tokens ${row.prompt_tokens}`);
    assert.ok(
      row.completion_tokens >= 1 && row.completion_tokens < 12,
      `completion tokens ${row.completion_tokens} (only part was streamed)`,
    );
    assert.ok(row.spend > 0);
  });

  it("an upstream that drops the connection mid-stream: the client gets an error event (no [DONE]), and what was streamed is charged", async () => {
    const before = (await rows()).length;
    const res = await stream("resetting", "alpha beta gamma delta epsilon zeta");
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /"error":\{"message":"upstream for resetting broke off the stream/);
    assert.doesNotMatch(text, /\[DONE\]/);
    const all = await eventually(rows, (r) => r.length === before + 1, 30_000);
    const row = all.at(-1)!;
    assert.equal(row.metadata.usage_estimated, true);
    assert.ok(row.completion_tokens >= 1, `completion tokens ${row.completion_tokens}`);
  });
});
