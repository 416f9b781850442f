// The response cache's rules: what makes two requests the same question, what
// a request may say about the cache, and how one pod's memory keeps answers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cacheControls, cacheKey } from "./cache-key.js";
import { MemoryResponseCache } from "./response-cache.js";
import { ApiError } from "../errors.js";

const chat = (extra: Record<string, unknown> = {}) => ({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], ...extra });
const key = (body: Record<string, unknown>, model = "gpt-4o-mini", callType = "acompletion") => cacheKey("ns", callType, model, body);

describe("response cache: the key", () => {
  const same: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ["fields in another order", chat({ temperature: 0 }), { temperature: 0, messages: [{ content: "hi", role: "user" }], model: "x" }],
    ["a different `cache` field", chat(), chat({ cache: { ttl: 5 } })],
    ["different metadata", chat({ metadata: { a: 1 } }), chat({ metadata: { b: 2 } })],
  ];
  for (const [name, a, b] of same) it(`the same question: ${name}`, () => assert.equal(key(a), key(b)));

  const different: Array<[string, string, string]> = [
    ["another message", key(chat()), key(chat({ messages: [{ role: "user", content: "hello" }] }))],
    ["another temperature", key(chat({ temperature: 0 })), key(chat({ temperature: 1 }))],
    ["another user", key(chat({ user: "a" })), key(chat({ user: "b" }))],
    ["another model group", key(chat()), key(chat(), "gpt-4o")],
    ["another call type", key(chat()), key(chat(), "gpt-4o-mini", "atext_completion")],
  ];
  for (const [name, a, b] of different) it(`a different question: ${name}`, () => assert.notEqual(a, b));

  it("is the namespace and a sha-256", () => assert.match(key(chat()), /^ns:[0-9a-f]{64}$/));
});

describe("response cache: a request's controls", () => {
  const table: Array<[unknown, ReturnType<typeof cacheControls>]> = [
    [undefined, { noCache: false, noStore: false, useCache: false }],
    [{ "no-cache": true }, { noCache: true, noStore: false, ttlSeconds: undefined, useCache: false }],
    [{ "no-store": true }, { noCache: false, noStore: true, ttlSeconds: undefined, useCache: false }],
    [{ ttl: 60 }, { noCache: false, noStore: false, ttlSeconds: 60, useCache: false }],
    [{ "s-maxage": 0 }, { noCache: true, noStore: false, ttlSeconds: undefined, useCache: false }],
    [{ "use-cache": true }, { noCache: false, noStore: false, ttlSeconds: undefined, useCache: true }],
  ];
  for (const [cache, expected] of table)
    it(`cache: ${JSON.stringify(cache)}`, () => assert.deepEqual(cacheControls(chat(cache === undefined ? {} : { cache })), expected));

  for (const [cache, field] of [
    [{ ttl: "long" }, "cache.ttl"],
    [{ ttl: -1 }, "cache.ttl"],
    [{ "no-cache": "yes" }, "cache.no-cache"],
    ["off", "cache"],
  ] as const)
    it(`a malformed ${JSON.stringify(cache)} is a 400 naming ${field}`, () =>
      assert.throws(
        () => cacheControls(chat({ cache })),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === field && e.message.startsWith(field),
      ));
});

describe("response cache: one pod's memory", () => {
  it("keeps an answer until its ttl", async () => {
    let now = 0;
    const cache = new MemoryResponseCache(1000, () => now);
    cache.set("a", "answer", 100);
    assert.equal(await cache.get("a"), "answer");
    now = 100;
    assert.equal(await cache.get("a"), undefined);
  });

  it("drops the oldest answers past its size", async () => {
    const cache = new MemoryResponseCache(10);
    cache.set("a", "12345", 1000);
    cache.set("b", "12345", 1000);
    cache.set("c", "1", 1000);
    assert.deepEqual([await cache.get("a"), await cache.get("b"), await cache.get("c")], [undefined, "12345", "1"]);
  });
});
