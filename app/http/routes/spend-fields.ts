import { z } from "zod";

// /spend/logs's query parameters, with LiteLLM's names (startTime/endTime or start_date/end_date;
// page and page_size as its paged spend logs). The admin UI's Logs page is typed from this schema.

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_MESSAGE = "must be a date such as 2026-11-24 or an ISO timestamp";
const when = z.coerce.date({ message: DATE_MESSAGE });
/** An end given as a date means the whole of that day. */
const until = z.string().transform((text, ctx) => {
  const date = new Date(DATE_ONLY.test(text) ? Date.parse(`${text}T00:00:00Z`) + 86_400_000 : text);
  if (Number.isNaN(date.getTime())) ctx.addIssue({ code: "custom", message: DATE_MESSAGE });
  return date;
});
const filter = z.string().min(1).max(512).optional();

export const SpendLogsQuery = z.object({
  /** A key or its hash. */
  api_key: filter,
  request_id: filter,
  user_id: filter,
  team_id: filter,
  end_user: filter,
  startTime: when.optional(),
  start_date: when.optional(),
  endTime: until.optional(),
  end_date: until.optional(),
  page: z.coerce.number({ message: "must be a whole number of 1 or more" }).int().min(1).default(1),
  page_size: z.coerce.number({ message: "must be a whole number from 1 to 1000" }).int().min(1).max(1000).default(100),
});
