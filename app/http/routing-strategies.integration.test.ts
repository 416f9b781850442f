// router_settings.routing_strategy against a real upstream process: least-busy sends a request
// to the deployment with the fewest answers still being relayed (a stream in progress counts until
// its last chunk), and to each again once the stream has ended.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, modelEntry, startProxy, type Proxy } from "../test-support/proxy.js";
import { until } from "../test-support/load.js";

describe("routing strategies (router_settings.routing_strategy: least-busy)", () => {
  let proxy: Proxy;
  const call = (body: Record<string, unknown>) =>
    fetch(`${proxy.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "pair", messages: [{ role: "user", content: "one two three" }], ...body }),
    });

  before(async () => {
    proxy = await startProxy(
      {},
      {
        extraConfig: (url) => ({
          // Two deployments of one group; "slow" streams a word every 100 ms, answers whole at once.
          models: [...modelEntry("pair", "slow", url, { id: "pair-a" }), ...modelEntry("pair", "slow", url, { id: "pair-b" })],
          sections: ["router_settings:", "  routing_strategy: least-busy"].join("\n"),
        }),
      },
    );
  });
  after(async () => {
    await proxy?.stop();
  });

  it("while one deployment relays a stream, every other request goes to the idle one; once it ends, both serve again", async () => {
    // A 40-word stream: about 4 s in flight.
    const prompt = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    const streaming = await call({ stream: true, messages: [{ role: "user", content: prompt }] });
    const busy = streaming.headers.get("x-litellm-model-id");
    assert.ok(busy === "pair-a" || busy === "pair-b", String(busy));
    await until(() => proxy.upstream.openStreams() === 1, "the stream in progress");
    const during: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call({});
      assert.equal(res.status, 200);
      during.push(res.headers.get("x-litellm-model-id")!);
      await res.text();
    }
    const idle = busy === "pair-a" ? "pair-b" : "pair-a";
    assert.deepEqual(during, [idle, idle, idle, idle]);
    // The stream read to its end: the busy deployment is idle again, and a tie goes by weight to the first listed.
    await streaming.text();
    await until(() => proxy.upstream.openStreams() === 0, "the stream ended");
    const served = new Set<string>();
    for (let i = 0; i < 20 && served.size < 2; i++) {
      const [x, y] = await Promise.all([call({}), call({})]);
      for (const res of [x, y]) {
        served.add(res.headers.get("x-litellm-model-id")!);
        await res.text();
      }
    }
    assert.deepEqual([...served].sort(), ["pair-a", "pair-b"]);
  });
});
