import { ApiError } from "../errors.js";

/**
 * LiteLLM's duration strings, used for key expiry (`duration`) and budget
 * periods (`budget_duration`): "30s", "10m", "12h", "30d", "2w", "1mo", and
 * the words hourly, daily, weekly, monthly. Months are calendar months
 * (Jan 31 + 1mo = Feb 28/29), as LiteLLM counts them.
 */
export interface Duration {
  readonly text: string;
  after(from: Date): Date;
}

const WORDS: Record<string, string> = { hourly: "1h", daily: "1d", weekly: "1w", monthly: "1mo" };
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
// Past a century a key is "forever" and the date itself starts to overflow.
const MAX_SECONDS = 100 * 366 * 86_400;

export function parseDuration(text: string, field: string): Duration {
  const normalized = WORDS[text.trim().toLowerCase()] ?? text.trim();
  const match = /^(\d{1,9})(mo|[smhdw])$/.exec(normalized);
  if (!match) throw ApiError.badRequest(`${field} must look like 30s, 30m, 30h, 30d, 2w or 1mo (got ${JSON.stringify(text)})`, field);
  const value = Number(match[1]);
  const unit = match[2] as keyof typeof SECONDS | "mo";
  if (unit === "mo") {
    if (value > 1200) throw ApiError.badRequest(`${field} must be at most 100 years (1200mo)`, field);
    return { text, after: (from) => addMonths(from, value) };
  }
  const seconds = value * SECONDS[unit];
  if (seconds > MAX_SECONDS) throw ApiError.badRequest(`${field} must be at most 100 years (36500d)`, field);
  return { text, after: (from) => new Date(from.getTime() + seconds * 1000) };
}

function addMonths(from: Date, months: number): Date {
  const target = new Date(from.getTime());
  const day = target.getUTCDate();
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target;
}

/** When a budget period that is `budget_duration` long and starts now ends; null when there is none. */
export function budgetResetAt(budgetDuration: string | null | undefined, now = new Date()): Date | null {
  return budgetDuration ? parseDuration(budgetDuration, "budget_duration").after(now) : null;
}
