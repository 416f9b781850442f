// LiteLLM's duration strings, for key expiry and budget periods.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseDuration } from "./durations.js";
import { ApiError } from "../errors.js";

const start = new Date("2026-01-31T10:00:00.000Z");

describe("durations (LiteLLM units)", () => {
  const cases: Array<[string, string]> = [
    ["30s", "2026-01-31T10:00:30.000Z"],
    ["15m", "2026-01-31T10:15:00.000Z"],
    ["2h", "2026-01-31T12:00:00.000Z"],
    ["1d", "2026-02-01T10:00:00.000Z"],
    ["2w", "2026-02-14T10:00:00.000Z"],
    ["1mo", "2026-02-28T10:00:00.000Z"], // calendar month, clamped to the month's last day
    ["13mo", "2027-02-28T10:00:00.000Z"],
    ["daily", "2026-02-01T10:00:00.000Z"],
    ["monthly", "2026-02-28T10:00:00.000Z"],
  ];
  for (const [text, expected] of cases) {
    it(`${text} after ${start.toISOString()} is ${expected}`, () => {
      assert.equal(parseDuration(text, "duration").after(start).toISOString(), expected);
    });
  }

  for (const bad of ["", "30", "30x", "-1d", "1.5h", "d", "40000d", "1300mo"]) {
    it(`refuses ${JSON.stringify(bad)} with a 400 naming the field`, () => {
      assert.throws(
        () => parseDuration(bad, "budget_duration"),
        (error: unknown) => error instanceof ApiError && error.status === 400 && error.param === "budget_duration",
      );
    });
  }
});
