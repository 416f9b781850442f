// general_settings.pass_through_endpoints as LiteLLM's config writes them:
// header values from the environment (alone or after a scheme), defaults,
// and a clear refusal naming what is wrong.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseProxyConfig } from "./model-config.js";
import { scrub } from "../observability/secrets.js";

const config = (endpoints: string, env: NodeJS.ProcessEnv = {}) =>
  parseProxyConfig(`general_settings:\n  pass_through_endpoints:\n${endpoints}`, "config.yaml", env);

describe("pass-through endpoints (config)", () => {
  it("reads path, target and headers, resolving os.environ/ alone or after a scheme; the resolved values are secrets", () => {
    const [endpoint] = config(
      [
        "    - path: /v1/rerank/",
        "      target: https://api.cohere.com/v1/rerank",
        "      headers: {Authorization: bearer os.environ/COHERE_API_KEY, x-key: os.environ/OTHER, accept: application/json}",
      ].join("\n"),
      { COHERE_API_KEY: "co-secret-123456", OTHER: "other-secret-9876" },
    ).passThrough;
    assert.deepEqual(endpoint, {
      path: "/v1/rerank",
      target: "https://api.cohere.com/v1/rerank",
      headers: { Authorization: "bearer co-secret-123456", "x-key": "other-secret-9876", accept: "application/json" },
      forwardHeaders: false,
      includeSubpath: false,
      costPerRequest: 0,
    });
    assert.equal(scrub("sent co-secret-123456"), "sent [REDACTED]");
  });

  const refusals: Array<[string, string, RegExp]> = [
    [
      "a header from an unset variable",
      "    - {path: /r, target: http://x, headers: {Authorization: Bearer os.environ/MISSING}}",
      /pass_through_endpoints\[0\]\.headers\.Authorization reads MISSING, which is not set/,
    ],
    ["a target that is no http(s) URL", "    - {path: /r, target: ftp://x}", /pass_through_endpoints\[0\]\.target/],
    [
      "a path that is not one",
      "    - {path: rerank, target: http://x}",
      /pass_through_endpoints\[0\]\.path must be a path like \/v1\/rerank/,
    ],
    ["the root path (it would take every route)", "    - {path: /, target: http://x}", /pass_through_endpoints\[0\]\.path/],
  ];
  for (const [what, yaml, message] of refusals)
    it(`refuses ${what}, naming it`, () => {
      assert.throws(() => config(yaml), message);
    });
});
