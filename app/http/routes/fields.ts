import { z } from "zod";

// LiteLLM's request fields shared by keys, users and teams; null clears a limit.
// Limits are stored as Postgres integers (LiteLLM's schema): past 2^31 - 1 is a 400, never a database error.
export const limit = z.number().int().positive().max(2_147_483_647).nullable().optional();
// LiteLLM takes max_parallel_requests 0: a key that may run nothing (yet).
export const parallel = z.number().int().nonnegative().max(2_147_483_647).nullable().optional();
export const budget = z.number().nonnegative().nullable().optional();

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
  // LiteLLM's budget tier: a budget object whose limits apply where the key sets none
  budget_id: z.string().min(1).max(256).nullable().optional(),
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

// The management requests the admin UI sends too: its API client is typed from these.

export const GenerateKey = z.object({ ...KeyFields, key: KeyValue.optional() });

export const TeamFields = {
  ...LimitFields,
  team_alias: z.string().min(1).max(255).nullable().optional(),
  members_with_roles: z.array(Member).optional(),
  blocked: z.boolean().optional(),
  organization_id: z.string().min(1).max(256).nullable().optional(),
  model_aliases: z
    .record(z.string(), z.string().min(1))
    .nullable()
    .optional()
    .transform((v) => (v === null ? {} : v)),
};

export const NewTeam = z.object({ ...TeamFields, team_id: z.string().min(1).max(255).optional() });
export const MemberAdd = z.object({ team_id: z.string().min(1), member: z.union([Member, z.array(Member).min(1)]) });

export const UserFields = {
  ...LimitFields,
  user_email: z.string().min(3).max(320).nullable().optional(),
  user_role: z.enum(["proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer"]).optional(),
};

export const NewUser = z.object({
  ...UserFields,
  user_id: z.string().min(1).max(255).optional(),
  teams: z.array(z.string().min(1)).optional(),
  team_id: z.string().min(1).nullable().optional(),
  auto_create_key: z.boolean().optional(),
  key_alias: z.string().min(1).max(255).nullable().optional(),
  duration: z.string().nullable().optional(),
});
