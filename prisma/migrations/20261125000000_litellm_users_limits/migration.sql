-- LiteLLM's day-one management surface: users, key lifecycle (block, rate
-- limits, budget periods, model aliases) and teams without a required alias.
-- Every column added to an existing table has a default or is nullable, so
-- the migration is instant on a large table and old pods keep working
-- during a rolling upgrade.

-- CreateTable
CREATE TABLE "tandem_user" (
    "user_id" TEXT NOT NULL,
    "user_email" TEXT,
    "user_role" TEXT NOT NULL DEFAULT 'internal_user',
    "teams" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "models" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "max_budget" DOUBLE PRECISION,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "rpm_limit" INTEGER,
    "tpm_limit" INTEGER,
    "max_parallel_requests" INTEGER,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMPTZ(3),
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tandem_user_pkey" PRIMARY KEY ("user_id")
);

-- CreateIndex
CREATE INDEX "tandem_user_user_email_idx" ON "tandem_user"("user_email");

-- AlterTable
ALTER TABLE "tandem_verification_token"
    ADD COLUMN "user_id" TEXT,
    ADD COLUMN "blocked" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "rpm_limit" INTEGER,
    ADD COLUMN "tpm_limit" INTEGER,
    ADD COLUMN "max_parallel_requests" INTEGER,
    ADD COLUMN "budget_duration" TEXT,
    ADD COLUMN "budget_reset_at" TIMESTAMPTZ(3),
    ADD COLUMN "aliases" JSONB NOT NULL DEFAULT '{}';

-- CreateIndex
CREATE INDEX "tandem_verification_token_user_id_idx" ON "tandem_verification_token"("user_id");

-- AlterTable
ALTER TABLE "tandem_team"
    ALTER COLUMN "team_alias" DROP NOT NULL,
    ADD COLUMN "blocked" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "rpm_limit" INTEGER,
    ADD COLUMN "tpm_limit" INTEGER,
    ADD COLUMN "max_parallel_requests" INTEGER,
    ADD COLUMN "budget_duration" TEXT,
    ADD COLUMN "budget_reset_at" TIMESTAMPTZ(3),
    ADD COLUMN "members_with_roles" JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN "metadata" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "tandem_spend_logs" ADD COLUMN "user" TEXT;

-- CreateIndex
CREATE INDEX "tandem_spend_logs_user_idx" ON "tandem_spend_logs"("user");
