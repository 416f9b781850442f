import type { WriterTransaction as Tx } from "../../db/routing-client.js";
import type { Budget, Organization } from "../../generated/prisma/client.js";
import { ApiError } from "../errors.js";

/** LiteLLM's name for "every model on the proxy" in a model list. */
const ALL_PROXY_MODELS = "all-proxy-models";

/** What of a team an organization bounds. */
export interface TeamBounds {
  max_budget?: number | null;
  tpm_limit?: number | null;
  rpm_limit?: number | null;
  models?: string[];
}

/**
 * A team inside an organization stays within it, as LiteLLM checks on /team/new and /team/update:
 * its max_budget, tpm_limit and rpm_limit no higher than the organization's budget's, its models
 * among the organization's (an organization without models, or with all-proxy-models, allows any;
 * a team without a model list is not refused, as in LiteLLM).
 * Throws LiteLLM's 400 naming the field; a team without a limit is within any.
 */
export function checkTeamWithin(team: TeamBounds, org: Pick<Organization, "organization_id" | "models"> & { budget: Budget | null }): void {
  const where = `Organization: ${org.organization_id}`;
  for (const field of ["max_budget", "tpm_limit", "rpm_limit"] as const) {
    const mine = team[field];
    const theirs = org.budget?.[field];
    if (mine != null && theirs != null && mine > theirs)
      throw ApiError.badRequest(`${field}: Team ${field} (${mine}) exceeds organization's ${field} (${theirs}). ${where}`, field);
  }
  if (org.models.length === 0 || org.models.includes(ALL_PROXY_MODELS)) return;
  const outside = (team.models ?? []).find((model) => !org.models.includes(model));
  if (outside !== undefined)
    throw ApiError.badRequest(
      `models: Model '${outside}' not in organization's allowed models. Organization allowed models=${JSON.stringify(org.models)}. ${where}`,
      "models",
    );
}

type OrganizationBounds = Pick<Organization, "organization_id" | "models"> & { budget: Budget | null };

/** The organization a team names, read and locked on the writer inside the team's transaction, and the team checked against it. */
export async function requireTeamFits(tx: Tx, organizationId: string, team: TeamBounds): Promise<OrganizationBounds> {
  await tx.$queryRaw`SELECT 1 FROM "tandem_organization" WHERE "organization_id" = ${organizationId} FOR SHARE`;
  const org = await tx.organization.findUnique({ where: { organization_id: organizationId }, include: { budget: true } });
  if (!org) throw ApiError.badRequest(`organization_id: Organization not found for organization_id=${organizationId}`, "organization_id");
  checkTeamWithin(team, org);
  return org;
}

/**
 * A team an org_admin makes takes its organization's models and limits wherever it names none:
 * the bounds are checked only for what a team sets, so a team without a model list or a limit
 * would otherwise reach every model, unlimited — more than the organization's own admin may give.
 */
export function withinOrganization<T extends TeamBounds>(team: T, org: OrganizationBounds): T {
  const anyModel = org.models.length === 0 || org.models.includes(ALL_PROXY_MODELS);
  return {
    ...team,
    models: (team.models ?? []).length > 0 || anyModel ? team.models : org.models,
    max_budget: team.max_budget ?? org.budget?.max_budget ?? null,
    tpm_limit: team.tpm_limit ?? org.budget?.tpm_limit ?? null,
    rpm_limit: team.rpm_limit ?? org.budget?.rpm_limit ?? null,
  };
}
