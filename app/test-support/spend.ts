import type { SpendRecord } from "../services/billing/spend.js";

let counter = 0;

/** A spend record as the proxy queues one (a fresh request id each), with `over` on top. */
export function spendRecord(over: Partial<SpendRecord> = {}): SpendRecord {
  return {
    requestId: `r-${++counter}`,
    token: "k1",
    keyed: true,
    teamId: null,
    userId: null,
    model: "m",
    usage: { prompt_tokens: 3, completion_tokens: 4 },
    cost: 0.5,
    startTime: new Date("2026-12-01T10:00:00Z"),
    endTime: new Date("2026-12-01T10:00:01Z"),
    ...over,
  };
}
