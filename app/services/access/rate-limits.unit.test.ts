// Per-pod rate limits as LiteLLM sets them on keys, users and teams.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../errors.js";
import { RateLimits, type LimitScope } from "./rate-limits.js";

const scope = (kind: LimitScope["kind"], id: string, limits: Partial<Pick<LimitScope, "rpm" | "tpm" | "maxParallel">>): LimitScope => ({
  kind,
  id,
  rpm: null,
  tpm: null,
  maxParallel: null,
  ...limits,
});

const refused = (what: RegExp) => (error: unknown) =>
  error instanceof ApiError && error.status === 429 && what.test(error.message) && Number(error.headers["retry-after"]) >= 1;

describe("rate limits", () => {
  it("no limits: always admitted", async () => {
    const limits = new RateLimits();
    for (let i = 0; i < 100; i++) (await limits.admit([scope("key", "k", {})])).done(1000);
  });

  it("rpm: the (n+1)th request in the minute is refused with retry-after", async () => {
    const limits = new RateLimits();
    const key = [scope("key", "k", { rpm: 3 })];
    for (let i = 0; i < 3; i++) (await limits.admit(key)).done(0);
    await assert.rejects(limits.admit(key), refused(/rpm_limit 3/));
  });

  it("rpm: a request the team refuses does not use up the key's allowance", async () => {
    const limits = new RateLimits();
    const team = scope("team", "t", { rpm: 1 });
    (await limits.admit([scope("key", "other", {}), team])).done(0);
    const key = scope("key", "k", { rpm: 1 });
    await assert.rejects(limits.admit([key, team]), refused(/team t.*rpm_limit 1/));
    (await limits.admit([key])).done(0);
  });

  it("tpm: requests run until the tokens used this minute reach the limit", async () => {
    const limits = new RateLimits();
    const key = [scope("key", "k", { tpm: 100 })];
    (await limits.admit(key)).done(60);
    (await limits.admit(key)).done(60);
    await assert.rejects(limits.admit(key), refused(/tpm_limit 100 \(120 tokens this minute\)/));
  });

  it("max_parallel_requests: counts requests in flight; done frees the slot, once", async () => {
    const limits = new RateLimits();
    const key = [scope("key", "k", { maxParallel: 2 })];
    const a = await limits.admit(key);
    const b = await limits.admit(key);
    await assert.rejects(limits.admit(key), refused(/max_parallel_requests 2 \(2 in flight\)/));
    a.done(0);
    a.done(0); // a second call must not free a slot it does not hold
    const c = await limits.admit(key);
    await assert.rejects(limits.admit(key), refused(/max_parallel_requests/));
    b.done(0);
    c.done(0);
  });

  it("scopes are separate: one key's use does not count against another's", async () => {
    const limits = new RateLimits();
    (await limits.admit([scope("key", "a", { rpm: 1 })])).done(0);
    (await limits.admit([scope("key", "b", { rpm: 1 })])).done(0);
    await assert.rejects(limits.admit([scope("key", "a", { rpm: 1 })]), refused(/rpm_limit 1/));
  });
});
