// The admin UI's session token and sign-in rules, as a table.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  SESSION_TTL_MS,
  cookieOf,
  credentialsValid,
  csrfMatches,
  csrfTokenOf,
  issueSession,
  signingSecret,
  verifySession,
} from "./session-token.js";
import { LocalSessionRevocations } from "./session-revocations.js";

const MASTER = "sk-master-unit";

describe("admin UI session token", () => {
  const now = 1_800_000_000_000;
  const { token, session } = issueSession(MASTER, now);
  const [v, id, expires, signature] = token.split(".") as [string, string, string, string];

  const cases: Array<[string, string | undefined, number, string, boolean]> = [
    ["the token as issued", token, now, MASTER, true],
    ["a moment before it expires", token, now + SESSION_TTL_MS - 1, MASTER, true],
    ["once expired", token, now + SESSION_TTL_MS, MASTER, false],
    ["after the master key rotated", token, now, "sk-rotated", false],
    ["after UI_PASSWORD changed", token, now, signingSecret(MASTER, "new password"), false],
    ["with its expiry pushed back", `${v}.${id}.${Number(expires) + 1}.${signature}`, now, MASTER, false],
    ["with another id", `${v}.${"x".repeat(24)}.${expires}.${signature}`, now, MASTER, false],
    ["with its signature cut", `${v}.${id}.${expires}.${signature.slice(1)}`, now, MASTER, false],
    ["of another version", `v2.${id}.${expires}.${signature}`, now, MASTER, false],
    ["no cookie", undefined, now, MASTER, false],
    ["garbage", "not-a-token", now, MASTER, false],
  ];
  for (const [name, candidate, at, key, valid] of cases)
    it(`${name}: ${valid ? "accepted" : "refused"}`, () => {
      assert.equal(verifySession(key, candidate, at)?.id, valid ? session.id : undefined);
    });

  it("the CSRF token is the session's own: another session's, or none, does not match", () => {
    const other = issueSession(MASTER, now).session;
    assert.ok(csrfMatches(MASTER, session, csrfTokenOf(MASTER, session)));
    assert.ok(!csrfMatches(MASTER, session, csrfTokenOf(MASTER, other)));
    assert.ok(!csrfMatches(MASTER, session, undefined));
    assert.ok(!csrfMatches(MASTER, session, ""));
  });
});

describe("admin UI sign-in", () => {
  const withPassword = { username: "ops", password: "correct horse" };
  const masterOnly = { username: "admin" };
  const cases: Array<[string, { username: string; password?: string }, string | undefined, string | undefined, boolean]> = [
    ["the master key, any user name", masterOnly, "whoever", MASTER, true],
    ["the master key, no user name", masterOnly, undefined, MASTER, true],
    ["a wrong password", masterOnly, "admin", "sk-wrong", false],
    ["no password", masterOnly, "admin", undefined, false],
    ["UI_USERNAME with UI_PASSWORD", withPassword, "ops", "correct horse", true],
    ["UI_PASSWORD under another user name", withPassword, "admin", "correct horse", false],
    ["the master key where UI_PASSWORD is set", withPassword, "ops", MASTER, true],
    ["UI_PASSWORD when none is configured", masterOnly, "admin", "correct horse", false],
  ];
  for (const [name, ui, username, password, valid] of cases)
    it(`${name}: ${valid ? "signs in" : "refused"}`, () => {
      assert.equal(credentialsValid(ui, MASTER, username, password), valid);
    });
});

describe("cookie header", () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ["tandem_session=abc", "abc"],
    ["a=1; tandem_session=abc.def; b=2", "abc.def"],
    ["xtandem_session=abc", undefined],
    [undefined, undefined],
  ];
  for (const [header, value] of cases)
    it(`${JSON.stringify(header)} → ${JSON.stringify(value)}`, () => assert.equal(cookieOf(header, "tandem_session"), value));
});

describe("sign-outs on one pod", () => {
  it("a revoked session stays revoked until it would have expired, then is forgotten", async () => {
    let now = 0;
    const revocations = new LocalSessionRevocations(() => now);
    await revocations.revoke("s1", 100);
    assert.equal(await revocations.isRevoked("s1"), true);
    assert.equal(await revocations.isRevoked("s2"), false);
    now = 100;
    assert.equal(await revocations.isRevoked("s1"), false);
  });
});
