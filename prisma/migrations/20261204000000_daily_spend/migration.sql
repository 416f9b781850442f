-- The end user a request named (OpenAI's `user`, Anthropic's `metadata.user_id`): LiteLLM's
-- "customer", which spend reports group by.
ALTER TABLE "tandem_spend_logs" ADD COLUMN "end_user" TEXT;

-- Daily spend aggregates: one row per UTC day × key × team × user × model, grown by a trigger in
-- the same transaction as the spend rows it sums (see the end of this file). Usage pages and reports
-- read these, never the spend rows. A missing team or user is '' (part of the primary key).
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

-- Every statement that inserts spend rows grows the aggregates by the rows it actually inserted
-- (its transition table: rows skipped by ON CONFLICT DO NOTHING are not in it, so a retried batch
-- counts once), in the same transaction. A trigger rather than the application: pods still running
-- the previous version during a rolling upgrade write spend rows too, and they count. Rows are
-- summed in SQL and upserted in key order, so two batches over the same days lock rows alike.
CREATE FUNCTION "tandem_add_to_daily_spend"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "tandem_daily_spend" AS d
      ("day", "api_key", "team_id", "user_id", "model", "spend", "requests", "prompt_tokens", "completion_tokens", "cache_hits")
  SELECT ("start_time" AT TIME ZONE 'UTC')::date, "api_key", coalesce("team_id", ''), coalesce("user", ''), "model",
         sum("spend"), count(*), sum("prompt_tokens"), sum("completion_tokens"),
         count(*) FILTER (WHERE "metadata"->>'cache_hit' = 'true')
  FROM "inserted"
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT ("day", "api_key", "team_id", "user_id", "model") DO UPDATE SET
    "spend" = d."spend" + excluded."spend", "requests" = d."requests" + excluded."requests",
    "prompt_tokens" = d."prompt_tokens" + excluded."prompt_tokens",
    "completion_tokens" = d."completion_tokens" + excluded."completion_tokens",
    "cache_hits" = d."cache_hits" + excluded."cache_hits";
  INSERT INTO "tandem_daily_end_user_spend" AS d
      ("day", "end_user", "model", "spend", "requests", "prompt_tokens", "completion_tokens")
  SELECT ("start_time" AT TIME ZONE 'UTC')::date, "end_user", "model", sum("spend"), count(*), sum("prompt_tokens"), sum("completion_tokens")
  FROM "inserted"
  WHERE "end_user" IS NOT NULL
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT ("day", "end_user", "model") DO UPDATE SET
    "spend" = d."spend" + excluded."spend", "requests" = d."requests" + excluded."requests",
    "prompt_tokens" = d."prompt_tokens" + excluded."prompt_tokens",
    "completion_tokens" = d."completion_tokens" + excluded."completion_tokens";
  RETURN NULL;
END
$$;

-- Created before the history is summed: its lock waits for spend writes in flight and holds new
-- ones until this migration commits, so every spend row is counted exactly once, here or by it.
CREATE TRIGGER "tandem_spend_logs_daily_spend"
  AFTER INSERT ON "tandem_spend_logs"
  REFERENCING NEW TABLE AS "inserted"
  FOR EACH STATEMENT EXECUTE FUNCTION "tandem_add_to_daily_spend"();

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
