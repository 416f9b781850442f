-- Daily spend aggregates: one row per UTC day × key × team × user × model, grown in the same
-- writer transaction as the spend rows it sums (only rows actually inserted count, so a retried
-- batch counts once). Usage pages and reports read these, never the spend rows.
-- A missing team or user is '' (part of the primary key).
CREATE TABLE "tandem_daily_spend" (
    "day" DATE NOT NULL,
    "api_key" TEXT NOT NULL,
    "team_id" TEXT NOT NULL DEFAULT '',
    "user_id" TEXT NOT NULL DEFAULT '',
    "model" TEXT NOT NULL,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_hits" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "tandem_daily_spend_pkey" PRIMARY KEY ("day", "api_key", "team_id", "user_id", "model")
);

CREATE INDEX "tandem_daily_spend_day_idx" ON "tandem_daily_spend"("day");
CREATE INDEX "tandem_daily_spend_team_id_day_idx" ON "tandem_daily_spend"("team_id", "day");
CREATE INDEX "tandem_daily_spend_user_id_day_idx" ON "tandem_daily_spend"("user_id", "day");
CREATE INDEX "tandem_daily_spend_api_key_day_idx" ON "tandem_daily_spend"("api_key", "day");
