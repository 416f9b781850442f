/**
 * Spend-log retention settings, LiteLLM's way: general_settings
 * `maximum_spend_logs_retention_period` ("30d") and
 * `maximum_spend_logs_retention_interval` ("1h"), or tandem's
 * SPEND_LOGS_RETENTION_PERIOD / SPEND_LOGS_RETENTION_INTERVAL, which win.
 * Rows go a whole day at a time, so a period is whole days (or weeks).
 */

/** Days, from "30d", "4w" (or a plain number of days); throws a message naming `where`. */
export function retentionDays(text: string, where: string): number {
  const match = /^(\d{1,5})\s*(d|w)?$/.exec(text.trim());
  if (!match || Number(match[1]) < 1)
    throw new Error(`${where} must be a whole number of days or weeks such as 30d or 4w, at least 1d (got ${JSON.stringify(text)})`);
  return Number(match[1]) * (match[2] === "w" ? 7 : 1);
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, from "30m", "1h", "1d" (at least a minute); throws a message naming `where`. */
export function retentionIntervalMs(text: string, where: string): number {
  const match = /^(\d{1,6})\s*(s|m|h|d)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= 60_000)) throw new Error(`${where} must be a duration such as 30m, 1h or 1d, at least 1m (got ${JSON.stringify(text)})`);
  return ms;
}

/** Retention as set: each value parsed when given (the names are what an error names). */
export interface RetentionSettings {
  periodDays?: number;
  intervalMs?: number;
}

/** Parses the period and the interval where given; throws a message naming the one at fault. */
export function retentionSettings(
  values: { period?: string | number; interval?: string },
  names: { period: string; interval: string },
): RetentionSettings {
  return {
    periodDays: values.period === undefined ? undefined : retentionDays(String(values.period), names.period),
    intervalMs: values.interval === undefined ? undefined : retentionIntervalMs(values.interval, names.interval),
  };
}
