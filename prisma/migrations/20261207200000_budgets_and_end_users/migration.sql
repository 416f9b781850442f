-- Budgets as objects (LiteLLM's BudgetTable) and end users (LiteLLM's customers, the `user` a
-- request names). New tables only: a pod of the previous release never reads them and keeps
-- working during a rolling upgrade.
CREATE TABLE "tandem_budget" (
    "budget_id" TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "max_budget" DOUBLE PRECISION,
    "soft_budget" DOUBLE PRECISION,
    "max_parallel_requests" INTEGER,
    "tpm_limit" INTEGER,
    "rpm_limit" INTEGER,
    "model_max_budget" JSONB,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "tandem_budget_pkey" PRIMARY KEY ("budget_id")
);
CREATE INDEX "tandem_budget_budget_reset_at_idx" ON "tandem_budget" ("budget_reset_at") WHERE "budget_reset_at" IS NOT NULL;

-- One row per end user: made by /end_user/new, or by the first spend of a `user` nobody made (as
-- LiteLLM does), its spend growing with every request that names it.
CREATE TABLE "tandem_end_user" (
    "user_id" TEXT NOT NULL,
    "alias" TEXT,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "allowed_model_region" TEXT,
    "default_model" TEXT,
    -- A budget deleted while end users use it leaves them without one (LiteLLM's tests delete budgets in use).
    "budget_id" TEXT REFERENCES "tandem_budget" ("budget_id") ON DELETE SET NULL,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),

    CONSTRAINT "tandem_end_user_pkey" PRIMARY KEY ("user_id")
);
CREATE INDEX "tandem_end_user_budget_id_idx" ON "tandem_end_user" ("budget_id") WHERE "budget_id" IS NOT NULL;
