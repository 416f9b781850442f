// Which failures mean "the endpoint is unusable" (fall back) and which mean
// "the query is wrong" (never rerouted), through every layer errors arrive in.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isAuthFailure, isConnectionError, isReadOnlyRefusal, isRefusedOrCut } from "./connection-errors.js";
import { WrongInstanceError } from "./instance-identity.js";

const withCode = (code: string) => Object.assign(new Error("x"), { code });
const wrapped = (inner: unknown) =>
  Object.assign(new Error("Invalid `prisma.team.findMany()` invocation"), { cause: { driverAdapterError: inner } });

describe("isConnectionError", () => {
  const table: Array<[string, unknown, boolean]> = [
    ["refused", withCode("ECONNREFUSED"), true],
    ["reset", withCode("ECONNRESET"), true],
    ["class 08 SQLSTATE", withCode("08006"), true],
    ["admin shutdown 57P01", withCode("57P01"), true],
    ["too many connections 53300", withCode("53300"), true],
    ["Prisma P1001", withCode("P1001"), true],
    ["Prisma P2028: a transaction that could not start in time", withCode("P2028"), true],
    ["adapter kind DatabaseNotReachable", { kind: "DatabaseNotReachable" }, true],
    ["pg's query timeout", new Error("Query read timeout"), true],
    ["pool acquire timeout", new Error("timeout exceeded when trying to connect"), true],
    ["wrapped three layers deep", wrapped({ cause: withCode("ECONNRESET") }), true],
    [
      "no connection through a shared address reached the instance",
      wrapped(new WrongInstanceError("10.0.0.1:5432", "10.0.0.2:5432")),
      true,
    ],
    ["undefined table 42P01", withCode("42P01"), false],
    ["unique violation P2002", withCode("P2002"), false],
    ["read-only refusal 25006", withCode("25006"), false],
    ["a plain bug", new TypeError("x is not a function"), false],
    ["not an error at all", "nope", false],
  ];
  for (const [name, error, expected] of table) it(`${name} → ${expected}`, () => assert.equal(isConnectionError(error), expected));
});

describe("isReadOnlyRefusal", () => {
  const table: Array<[string, unknown, boolean]> = [
    ["SQLSTATE 25006", withCode("25006"), true],
    ["Postgres' message", new Error("cannot execute INSERT in a read-only transaction"), true],
    ["wrapped", wrapped(withCode("25006")), true],
    ["a WAL function on a standby", new Error("recovery is in progress"), true],
    ["connection refused", withCode("ECONNREFUSED"), false],
  ];
  for (const [name, error, expected] of table) it(`${name} → ${expected}`, () => assert.equal(isReadOnlyRefusal(error), expected));
});

describe("isAuthFailure", () => {
  const table: Array<[string, unknown, boolean]> = [
    ["SQLSTATE 28P01", withCode("28P01"), true],
    ["SQLSTATE 28000", withCode("28000"), true],
    ["wrapped by Prisma", wrapped(withCode("28P01")), true],
    ["Postgres' message", new Error('password authentication failed for user "tandem"'), true],
    ["connection refused", withCode("ECONNREFUSED"), false],
    ["undefined table", withCode("42P01"), false],
  ];
  for (const [name, error, expected] of table) it(`${name} → ${expected}`, () => assert.equal(isAuthFailure(error), expected));
});

describe("isRefusedOrCut (worth another try through an address shared by several instances)", () => {
  const table: Array<[string, unknown, boolean]> = [
    ["refused", withCode("ECONNREFUSED"), true],
    ["reset", withCode("ECONNRESET"), true],
    ["cut before it was ready", new Error("Connection terminated unexpectedly"), true],
    ["no free slot in the pool: another try would wait the same", new Error("timeout exceeded when trying to connect"), false],
    ["a timeout connecting", withCode("ETIMEDOUT"), false],
    ["a query error", withCode("42P01"), false],
  ];
  for (const [name, error, expected] of table) it(`${name} → ${expected}`, () => assert.equal(isRefusedOrCut(error), expected));
});
