import type { z } from "zod";
import { ApiError } from "../services/errors.js";

/** Parses a request body or query; a bad field becomes a 400 that names it. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what = "body"): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") || what;
  throw ApiError.badRequest(`${field}: ${issue?.message ?? "invalid"}`, field);
}
