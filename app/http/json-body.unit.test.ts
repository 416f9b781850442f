// The lean path's body: what Express's strict JSON parser and the input
// guards accept and refuse, with the same 400s naming the culprit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePlainJson } from "./json-body.js";
import { ApiError } from "../services/errors.js";

describe("a plain JSON body", () => {
  it("an object or an array is its value", () => {
    assert.deepEqual(parsePlainJson(Buffer.from(' {"model":"m","messages":[{"role":"user"}]}')), {
      model: "m",
      messages: [{ role: "user" }],
    });
    assert.deepEqual(parsePlainJson(Buffer.from("[1,2]")), [1, 2]);
  });

  const refused: Array<[string, string, number, RegExp, string]> = [
    ["a bare string (strict, as Express)", '"hello"', 400, /^body: malformed JSON/, "body"],
    ["a bare number", "42", 400, /^body: malformed JSON/, "body"],
    ["broken JSON", '{"model": ', 400, /^body: malformed JSON/, "body"],
    ["nested past the limit", `{"a":${"[".repeat(100)}${"]".repeat(100)}}`, 400, /nested deeper/, "body"],
    [
      "a NUL in a message",
      '{"messages":[{"content":"a\\u0000b"}]}',
      400,
      /^messages\.0\.content: must not contain a NUL/,
      "messages.0.content",
    ],
    ["a NUL in a key", '{"a\\u0000":1}', 400, /^body: must not contain a NUL/, "body"],
  ];
  for (const [name, text, status, message, param] of refused) {
    it(`${name} → ${status} naming ${param}`, () => {
      assert.throws(
        () => parsePlainJson(Buffer.from(text)),
        (error: unknown) => error instanceof ApiError && error.status === status && message.test(error.message) && error.param === param,
      );
    });
  }
});
