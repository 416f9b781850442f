-- The end user a request named (OpenAI's `user`, Anthropic's `metadata.user_id`): LiteLLM's
-- "customer", which spend reports group by.
ALTER TABLE "tandem_spend_logs" ADD COLUMN "end_user" TEXT;

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

CREATE INDEX "tandem_daily_spend_team_id_day_idx" ON "tandem_daily_spend"("team_id", "day");
CREATE INDEX "tandem_daily_spend_user_id_day_idx" ON "tandem_daily_spend"("user_id", "day");
CREATE INDEX "tandem_daily_spend_api_key_day_idx" ON "tandem_daily_spend"("api_key", "day");

-- End users (customers) apart: there may be many more of them than keys, and the Usage page's sums
-- must not grow with their number. Only requests that name an end user count here.
CREATE TABLE "tandem_daily_end_user_spend" (
    "day" DATE NOT NULL,
    "end_user" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "tandem_daily_end_user_spend_pkey" PRIMARY KEY ("day", "end_user", "model")
);

CREATE INDEX "tandem_daily_end_user_spend_end_user_day_idx" ON "tandem_daily_end_user_spend"("end_user", "day");

-- An upgrade keeps its history: the spend rows already written are summed once, here.
INSERT INTO "tandem_daily_spend"
    ("day", "api_key", "team_id", "user_id", "model", "spend", "requests", "prompt_tokens", "completion_tokens", "cache_hits")
SELECT ("start_time" AT TIME ZONE 'UTC')::date, "api_key", coalesce("team_id", ''), coalesce("user", ''), "model",
       sum("spend"), count(*), sum("prompt_tokens"), sum("completion_tokens"),
       count(*) FILTER (WHERE "metadata"->>'cache_hit' = 'true')
FROM "tandem_spend_logs"
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO "tandem_daily_end_user_spend" ("day", "end_user", "model", "spend", "requests", "prompt_tokens", "completion_tokens")
SELECT ("start_time" AT TIME ZONE 'UTC')::date, "end_user", "model", sum("spend"), count(*), sum("prompt_tokens"), sum("completion_tokens")
FROM "tandem_spend_logs"
WHERE "end_user" IS NOT NULL
GROUP BY 1, 2, 3;
