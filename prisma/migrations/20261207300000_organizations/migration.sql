-- Organizations (LiteLLM's OrganizationTable): a budget, a model list bounding their teams', and
-- members with an organization role. New tables, and one nullable column on teams that a pod of the
-- previous release never selects: it keeps working during a rolling upgrade.
CREATE TABLE "tandem_organization" (
    "organization_id" TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "organization_alias" TEXT NOT NULL,
    -- A budget deleted while an organization uses it leaves it without one, as for end users.
    "budget_id" TEXT REFERENCES "tandem_budget" ("budget_id") ON DELETE SET NULL,
    "models" TEXT[] NOT NULL DEFAULT '{}',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "tandem_organization_pkey" PRIMARY KEY ("organization_id")
);
CREATE INDEX "tandem_organization_alias_idx" ON "tandem_organization" ("organization_alias");

-- A user's role in an organization: org_admin, internal_user or internal_user_viewer.
CREATE TABLE "tandem_organization_membership" (
    "organization_id" TEXT NOT NULL REFERENCES "tandem_organization" ("organization_id") ON DELETE CASCADE,
    "user_id" TEXT NOT NULL REFERENCES "tandem_user" ("user_id") ON DELETE CASCADE,
    "user_role" TEXT NOT NULL,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),

    CONSTRAINT "tandem_organization_membership_pkey" PRIMARY KEY ("organization_id", "user_id")
);
CREATE INDEX "tandem_organization_membership_user_id_idx" ON "tandem_organization_membership" ("user_id");

-- The organization a team belongs to. A nullable column without a default is added without
-- rewriting the table; teams are few, so its index is built in a moment.
ALTER TABLE "tandem_team" ADD COLUMN "organization_id" TEXT REFERENCES "tandem_organization" ("organization_id") ON DELETE SET NULL;
CREATE INDEX "tandem_team_organization_id_idx" ON "tandem_team" ("organization_id") WHERE "organization_id" IS NOT NULL;
