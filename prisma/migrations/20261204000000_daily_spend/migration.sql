-- The end user a request named (OpenAI's `user`, Anthropic's `metadata.user_id`): LiteLLM's
-- "customer", which spend reports group by.
ALTER TABLE "tandem_spend_logs" ADD COLUMN "end_user" TEXT;

-- Daily spend aggregates: one row per UTC day × key × team × user × end user × model, grown in the
-- same writer transaction as the spend rows it sums (only rows actually inserted count, so a
-- retried batch counts once). Usage pages and reports read these, never the spend rows.
-- A missing team, user or end user is '' (part of the primary key).
CREATE TABLE "tandem_daily_spend" (
    "day" DATE NOT NULL,
    "api_key" TEXT NOT NULL,
    "team_id" TEXT NOT NULL DEFAULT '',
    "user_id" TEXT NOT NULL DEFAULT '',
    "end_user" TEXT NOT NULL DEFAULT '',
    "model" TEXT NOT NULL,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_hits" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "tandem_daily_spend_pkey" PRIMARY KEY ("day", "api_key", "team_id", "user_id", "end_user", "model")
);

CREATE INDEX "tandem_daily_spend_team_id_day_idx" ON "tandem_daily_spend"("team_id", "day");
CREATE INDEX "tandem_daily_spend_user_id_day_idx" ON "tandem_daily_spend"("user_id", "day");
CREATE INDEX "tandem_daily_spend_api_key_day_idx" ON "tandem_daily_spend"("api_key", "day");

-- An upgrade keeps its history: the spend rows already written are summed once, here.
INSERT INTO "tandem_daily_spend"
    ("day", "api_key", "team_id", "user_id", "end_user", "model", "spend", "requests", "prompt_tokens", "completion_tokens", "cache_hits")
SELECT ("start_time" AT TIME ZONE 'UTC')::date, "api_key", coalesce("team_id", ''), coalesce("user", ''), coalesce("end_user", ''), "model",
       sum("spend"), count(*), sum("prompt_tokens"), sum("completion_tokens"),
       count(*) FILTER (WHERE "metadata"->>'cache_hit' = 'true')
FROM "tandem_spend_logs"
GROUP BY 1, 2, 3, 4, 5, 6;
