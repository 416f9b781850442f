// Which requests skip Express: only the proxied routes' ordinary shape.
// Every other shape goes through Express, which runs the same handlers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { leanHandlerFor } from "./listener.js";
import type { ProxyHandler } from "./routes/openai.js";

const handler: ProxyHandler = async () => {};
const handlers = new Map([["/v1/chat/completions", handler]]);
const LIMIT = 1024;

const request = (over: { method?: string; url?: string; headers?: Record<string, string> } = {}) =>
  ({
    method: over.method ?? "POST",
    url: over.url ?? "/v1/chat/completions",
    headers: { "content-type": "application/json", "content-length": "20", ...over.headers },
  }) as unknown as IncomingMessage;

describe("the lean path", () => {
  const rows: Array<[string, IncomingMessage, boolean]> = [
    ["a POST of JSON with its length", request(), true],
    ["JSON declared as UTF-8", request({ headers: { "content-type": "application/json; charset=UTF-8" } }), true],
    ["a body at the limit", request({ headers: { "content-length": String(LIMIT) } }), true],
    ["identity encoding", request({ headers: { "content-encoding": "identity" } }), true],
    ["a GET", request({ method: "GET" }), false],
    ["another route", request({ url: "/key/generate" }), false],
    ["a query string", request({ url: "/v1/chat/completions?x=1" }), false],
    ["a gzip body", request({ headers: { "content-encoding": "gzip" } }), false],
    ["a chunked body", request({ headers: { "transfer-encoding": "chunked" } }), false],
    ["over the limit (Express answers 413)", request({ headers: { "content-length": String(LIMIT + 1) } }), false],
    ["an empty body", request({ headers: { "content-length": "0" } }), false],
    ["a body that is not JSON (Express answers 415)", request({ headers: { "content-type": "text/plain" } }), false],
    ["a +json type", request({ headers: { "content-type": "application/vnd.api+json" } }), false],
    ["another charset", request({ headers: { "content-type": "application/json; charset=latin1" } }), false],
  ];
  for (const [name, req, lean] of rows) {
    it(`${name}: ${lean ? "lean" : "Express"}`, () => {
      assert.equal(leanHandlerFor(req, handlers, LIMIT) === handler, lean);
    });
  }
});
