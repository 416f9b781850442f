// Which end user ("customer") a request names: LiteLLM's order, headers before the body.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { endUserOf } from "./end-user-id.js";

describe("the end user a request names", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, string | undefined]> = [
    ["nobody", { model: "m" }, {}, undefined],
    ["OpenAI's user", { user: "u-body" }, {}, "u-body"],
    ["x-litellm-end-user-id over the body", { user: "u-body" }, { "x-litellm-end-user-id": "u-header" }, "u-header"],
    ["x-litellm-customer-id over x-litellm-end-user-id", {}, { "x-litellm-customer-id": "c", "x-litellm-end-user-id": "e" }, "c"],
    ["an empty header is no header", { user: "u-body" }, { "x-litellm-customer-id": "" }, "u-body"],
    ["litellm_metadata.user", { litellm_metadata: { user: "lm" } }, {}, "lm"],
    ["Anthropic's metadata.user_id", { metadata: { user_id: "anthropic" } }, {}, "anthropic"],
    ["the Responses API's safety_identifier", { safety_identifier: "safe" }, {}, "safe"],
    ["user before metadata.user_id", { user: "first", metadata: { user_id: "second" } }, {}, "first"],
    ["a non-string user names nobody", { user: 42 }, {}, undefined],
    ["cut at 256 characters", { user: "x".repeat(300) }, {}, "x".repeat(256)],
    ["a lone surrogate becomes U+FFFD", { user: "a\uD800b" }, {}, "a\uFFFDb"],
  ];
  for (const [name, body, headers, expected] of cases) {
    it(name, () => assert.equal(endUserOf(body, headers), expected));
  }
});
