-- A key may name a budget object (LiteLLM's budget tiers: /key/generate with budget_id). One nullable
-- column without a default: added without rewriting the table, and never selected by a pod of the
-- previous release, which keeps working during a rolling upgrade. A deleted budget leaves its keys
-- without one, as it does end users and organizations.
ALTER TABLE "tandem_verification_token" ADD COLUMN "budget_id" TEXT REFERENCES "tandem_budget" ("budget_id") ON DELETE SET NULL;
-- Only keys on a tier are indexed: the budget's reset and delete find them without a scan.
CREATE INDEX "tandem_verification_token_budget_id_idx" ON "tandem_verification_token" ("budget_id") WHERE "budget_id" IS NOT NULL;
