import { z } from "zod";
import { BudgetFields, oneBudget } from "./budget-fields.js";

// LiteLLM's organization request bodies. The admin UI's client is typed from them.

const id = z.string().min(1).max(256);

/** LiteLLM's organization roles (LitellmUserRoles' org-level values). */
export const OrganizationRole = z.enum(["org_admin", "internal_user", "internal_user_viewer"]);

const OrganizationFields = {
  organization_alias: z.string().min(1).max(256),
  models: z
    .array(z.string().min(1))
    .nullable()
    .optional()
    .transform((v) => (v === null ? [] : v)),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  ...BudgetFields,
};

/** /organization/new: its own budget from the limits in the body, or a shared one by budget_id. */
export const NewOrganization = z
  .object({ organization_id: id.optional(), budget_id: id.nullable().optional(), ...OrganizationFields })
  .superRefine(oneBudget);
export type NewOrganizationInput = z.infer<typeof NewOrganization>;

/** /organization/update: what is sent changes, the rest stays; limits change the organization's budget. */
export const UpdateOrganization = z.object({
  organization_id: id,
  ...OrganizationFields,
  organization_alias: OrganizationFields.organization_alias.optional(),
  spend: z.number().nonnegative().optional(),
});
export type UpdateOrganizationInput = z.infer<typeof UpdateOrganization>;

export const OrganizationIds = z.object({ organization_ids: z.array(id).min(1, "list at least one organization id") });
export const OrganizationInfoBody = z.object({ organizations: z.array(id).min(1, "list at least one organization id") });
export const OrganizationListQuery = z.object({ org_id: id.optional(), org_alias: z.string().min(1).optional() });

const email = z.string().min(3).max(320);
/** A member is named by user id or by email. */
const named = (m: { user_id?: string | null; user_email?: string | null }) => !!m.user_id || !!m.user_email;
const NAMED = { message: "either user_id or user_email must be provided", path: ["user_id"] };

/** One member: a user by id or by email, and its role there. */
export const OrganizationMember = z
  .object({ user_id: id.nullable().optional(), user_email: email.nullable().optional(), role: OrganizationRole })
  .refine(named, NAMED);
export type OrganizationMemberInput = z.infer<typeof OrganizationMember>;

// A member's own budget within the organization is not kept (tandem has no per-member organization
// budget): null or absent only, so a client that sends it set learns that at once.
const memberBudget = z.null({ message: "not supported: set the user's max_budget instead" }).optional();

export const OrganizationMemberAdd = z.object({
  organization_id: id,
  // One member or a list: a lone one is read as a list of one, so an error names its field (member.0.role).
  member: z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(OrganizationMember).min(1)),
  max_budget_in_organization: memberBudget,
});
const MemberRef = { organization_id: id, user_id: id.nullable().optional(), user_email: email.nullable().optional() };
export const OrganizationMemberUpdate = z
  .object({ ...MemberRef, role: OrganizationRole, max_budget_in_organization: memberBudget })
  .refine(named, NAMED);
export const OrganizationMemberDelete = z.object(MemberRef).refine(named, NAMED);
