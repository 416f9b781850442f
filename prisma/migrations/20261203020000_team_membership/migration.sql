-- LiteLLM's team membership: a user's spend within a team, and their budget there
-- (/team/member_update max_budget_in_team), apart from the team's and the user's own.
CREATE TABLE "tandem_team_membership" (
    "team_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "max_budget" DOUBLE PRECISION,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tandem_team_membership_pkey" PRIMARY KEY ("team_id", "user_id")
);

CREATE INDEX "tandem_team_membership_user_id_idx" ON "tandem_team_membership"("user_id");

ALTER TABLE "tandem_team_membership" ADD CONSTRAINT "tandem_team_membership_team_id_fkey"
    FOREIGN KEY ("team_id") REFERENCES "tandem_team"("team_id") ON DELETE CASCADE ON UPDATE CASCADE;
