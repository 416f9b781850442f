import { z } from "zod";

// The analytics endpoints' query parameters, with LiteLLM's names. The admin UI's API client is
// typed from these same schemas.

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** The widest range one request may sum: a year and a day (a leap year's range and its end day). */
export const MAX_RANGE_DAYS = 367;

const day = z
  .string()
  .regex(DAY, "must be a date such as 2026-11-24 (YYYY-MM-DD)")
  .refine((text) => {
    const parsed = new Date(`${text}T00:00:00Z`);
    // Year 0000 parses in JavaScript but is no date in PostgreSQL.
    return !Number.isNaN(parsed.getTime()) && parsed.getUTCFullYear() >= 1 && parsed.toISOString().startsWith(text);
  }, "is not a calendar date");

/** `start_date` .. `end_date`, both UTC days and both included. */
const DateRange = z.object({ start_date: day, end_date: day });

function rangeChecked<S extends z.ZodType<{ start_date: string; end_date: string }>>(schema: S) {
  return schema.superRefine((value, issues) => {
    const days = (Date.parse(value.end_date) - Date.parse(value.start_date)) / 86_400_000 + 1;
    if (days < 1) issues.addIssue({ code: "custom", path: ["end_date"], message: "must not be before start_date" });
    else if (days > MAX_RANGE_DAYS)
      issues.addIssue({ code: "custom", path: ["end_date"], message: `the range may span at most ${MAX_RANGE_DAYS} days` });
  });
}

const filter = z.string().min(1).max(512).optional();
const pageNumber = z.coerce.number({ message: "must be a whole number of 1 or more" }).int().min(1).default(1);
const pageSize = z.coerce.number({ message: "must be a whole number from 1 to 1000" }).int().min(1).max(1000).default(50);
const limit = z.coerce.number({ message: "must be a whole number from 1 to 1000" }).int().min(1).max(1000).default(10);

export const DailyActivityQuery = rangeChecked(
  DateRange.extend({
    /** The admin may name any user; a user's own key reads only its own. */
    user_id: filter,
    model: filter,
    api_key: filter,
    page: pageNumber,
    page_size: pageSize,
  }),
);

export const TeamDailyActivityQuery = rangeChecked(
  DateRange.extend({
    /** Comma-separated team ids (LiteLLM's name); none: every team the caller may read. */
    team_ids: z
      .string()
      .max(8192)
      .optional()
      .transform((text) =>
        text
          ? text
              .split(",")
              .map((id) => id.trim())
              .filter(Boolean)
          : [],
      ),
    model: filter,
    api_key: filter,
    page: pageNumber,
    page_size: pageSize,
  }),
);

export const SpendReportQuery = rangeChecked(
  DateRange.extend({
    group_by: z.enum(["team", "customer", "api_key", "user"], { message: "must be team, customer, api_key or user" }).default("team"),
    api_key: filter,
    internal_user_id: filter,
    team_id: filter,
    customer_id: filter,
  }),
).superRefine((value, issues) => {
  // Customers (end users) are summed apart from keys, teams and users: the filters do not cross.
  const crossing =
    value.group_by === "customer"
      ? (["api_key", "internal_user_id", "team_id"] as const).find((name) => value[name] !== undefined)
      : value.customer_id !== undefined
        ? "customer_id"
        : undefined;
  if (crossing)
    issues.addIssue({
      code: "custom",
      path: [crossing],
      message: value.group_by === "customer" ? "does not combine with group_by=customer" : "needs group_by=customer",
    });
});

/** Top keys or models; without dates, over all the spend on record. */
export const TopSpendQuery = z.object({ limit, start_date: day.optional(), end_date: day.optional() }).superRefine((value, issues) => {
  if ((value.start_date === undefined) !== (value.end_date === undefined))
    issues.addIssue({
      code: "custom",
      path: [value.start_date === undefined ? "start_date" : "end_date"],
      message: "start_date and end_date go together",
    });
  else if (value.start_date && value.end_date && value.end_date < value.start_date)
    issues.addIssue({ code: "custom", path: ["end_date"], message: "must not be before start_date" });
});

export type DailyActivityParams = z.infer<typeof DailyActivityQuery>;
export type TeamDailyActivityParams = z.infer<typeof TeamDailyActivityQuery>;
export type SpendReportParams = z.infer<typeof SpendReportQuery>;
export type TopSpendParams = z.infer<typeof TopSpendQuery>;
