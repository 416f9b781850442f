// Which of LiteLLM's fallback lists an upstream's refusal goes to: a prompt too long for the model,
// content its provider refused, or neither (the request's own fault is final).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fallbackKindOf } from "./failure-kind.js";

describe("an upstream's refusal, by the fallback list it goes to", () => {
  const cases: Array<[string, number, string, ReturnType<typeof fallbackKindOf>]> = [
    [
      "OpenAI's context_length_exceeded",
      400,
      '{"error":{"code":"context_length_exceeded","message":"This model\'s maximum context length is 16385 tokens"}}',
      "context_window",
    ],
    [
      "Anthropic's prompt is too long",
      400,
      '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
      "context_window",
    ],
    ["Bedrock's input is too long", 400, '{"message":"Input is too long for requested model."}', "context_window"],
    ["a 413 for too many tokens", 413, "Request too large: too many tokens", "context_window"],
    [
      "Azure's content filter",
      400,
      '{"error":{"code":"content_filter","message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy."}}',
      "content_policy",
    ],
    [
      "OpenAI's content_policy_violation",
      400,
      '{"error":{"code":"content_policy_violation","message":"Your request was rejected"}}',
      "content_policy",
    ],
    ["any other 400 is the request's own", 400, '{"error":{"message":"Unrecognized request argument supplied: foo"}}', undefined],
    ["a 500 is not read for either (it is retried)", 500, "maximum context length", undefined],
    ["a 429 is not read for either", 429, "content_filter", undefined],
  ];
  for (const [name, status, text, expected] of cases) it(name, () => assert.equal(fallbackKindOf(status, text), expected));
});
