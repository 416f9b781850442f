// LiteLLM's request fields for routing: client-side fallbacks, num_retries, timeout (body or
// x-litellm-timeout) and its testing switches; a malformed one is a 400 naming it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../errors.js";
import { pythonSeconds, requestRouting } from "./request-routing.js";

describe("a request's routing fields", () => {
  it("fallbacks as model names or objects with fields of their own", () => {
    const routing = requestRouting({ model: "a", fallbacks: ["b", { model: "c", messages: [{ role: "user", content: "short" }] }] }, {});
    assert.deepEqual(routing.fallbacks, [
      { model: "b", overrides: {} },
      { model: "c", overrides: { messages: [{ role: "user", content: "short" }] } },
    ]);
  });
  it("num_retries, timeout and the testing switches", () => {
    assert.deepEqual(
      requestRouting(
        {
          model: "a",
          num_retries: 0,
          timeout: 2.5,
          mock_response: "hi",
          mock_timeout: true,
          mock_testing_fallbacks: true,
          mock_testing_rate_limit_error: true,
        },
        {},
      ),
      { numRetries: 0, timeoutMs: 2500, mock: { response: "hi", timeout: true, fallbacks: true, rateLimit: true } },
    );
  });
  it("x-litellm-timeout wins over the body's timeout", () => {
    assert.equal(requestRouting({ model: "a", timeout: 5 }, { "x-litellm-timeout": "0.001" }).timeoutMs, 1);
  });
  it("none of them: nothing asked", () => {
    assert.deepEqual(requestRouting({ model: "a", temperature: 0 }, {}), { mock: {} });
  });
  const bad: Array<[string, Record<string, unknown>, Record<string, string>, string]> = [
    ["a fallback that is a number", { fallbacks: [3] }, {}, "fallbacks[0]"],
    ["a fallback object without a model", { fallbacks: [{ messages: [] }] }, {}, "fallbacks[0]"],
    ["negative num_retries", { num_retries: -1 }, {}, "num_retries"],
    ["a timeout of zero", { timeout: 0 }, {}, "timeout"],
    ["a timeout header that is not a number", {}, { "x-litellm-timeout": "soon" }, "x-litellm-timeout"],
    ["mock_timeout that is not a boolean", { mock_timeout: "yes" }, {}, "mock_timeout"],
  ];
  for (const [name, body, headers, field] of bad)
    it(`${name} is a 400 naming ${field}`, () => {
      assert.throws(
        () => requestRouting({ model: "a", ...body }, headers),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === field && e.message.startsWith(`${field}: `),
      );
    });
  it("seconds are printed as Python prints a float (LiteLLM's x-litellm-timeout)", () => {
    assert.deepEqual([1000, 1, 600_000, 2500].map(pythonSeconds), ["1.0", "0.001", "600.0", "2.5"]);
  });
});
