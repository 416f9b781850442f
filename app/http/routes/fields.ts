import { z } from "zod";

// LiteLLM's request fields shared by keys, users and teams; null clears a limit.
// Limits are stored as Postgres integers (LiteLLM's schema): past 2^31 - 1 is a 400, never a database error.
const limit = z.number().int().positive().max(2_147_483_647).nullable().optional();
// LiteLLM takes max_parallel_requests 0: a key that may run nothing (yet).
const parallel = z.number().int().nonnegative().max(2_147_483_647).nullable().optional();
const budget = z.number().nonnegative().nullable().optional();

export const LimitFields = {
  // LiteLLM's clients send null for "not given" on these: null is an empty list / no metadata.
  models: z
    .array(z.string().min(1))
    .nullable()
    .optional()
    .transform((v) => (v === null ? [] : v)),
  max_budget: budget,
  budget_duration: z.string().min(1).nullable().optional(),
  rpm_limit: limit,
  tpm_limit: limit,
  max_parallel_requests: parallel,
  metadata: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .transform((v) => (v === null ? {} : v)),
};

export const KeyFields = {
  ...LimitFields,
  team_id: z.string().min(1).nullable().optional(),
  user_id: z.string().min(1).max(255).nullable().optional(),
  key_alias: z.string().min(1).max(255).nullable().optional(),
  duration: z.string().nullable().optional(),
  aliases: z.record(z.string(), z.string().min(1)).optional(),
  blocked: z.boolean().optional(),
};

/** A caller-chosen key value: long enough to be a secret, no whitespace (it travels in a header). */
export const KeyValue = z.string().regex(/^\S{8,256}$/, "must be 8 to 256 characters without whitespace");

export const Member = z.object({
  role: z.enum(["admin", "user"]).default("user"),
  user_id: z.string().min(1).max(255).nullable().optional(),
  user_email: z.string().min(3).max(320).nullable().optional(),
});

export const PageNumber = z.coerce.number().int().min(1).default(1);
export const PageSize = (fallback: number) => z.coerce.number().int().min(1).max(100).default(fallback);
