-- Spend rows partitioned by UTC day. Retention drops whole days (one cheap record to replicate, no
-- VACUUM debt), and a query with a date range reads only its days. The previous table,
-- "tandem_spend_logs", stays for pods of the previous release during a rolling upgrade: what they
-- insert there is copied here by a trigger (below), and `tandem migrate` copies its history here in
-- small transactions, then empties it.
--
-- Sizes: fixed-width columns first (no alignment padding); "metadata" only when there is something
-- to say (NULL for a plain completion); the text columns a filter needs are indexed by a 64-bit hash
-- of their value with the start time (31 bytes an entry instead of 90 for a 64-character key), and
-- request_id by its hash alone, the query rechecking the value itself. Uniqueness is exact: (start_time, request_id), the partition
-- column first, so a retried batch (same ids, same start times) lands on the same rows and counts once.
CREATE TABLE "tandem_spend_rows" (
    "start_time" TIMESTAMPTZ(3) NOT NULL,
    "end_time" TIMESTAMPTZ(3) NOT NULL,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "request_id" TEXT NOT NULL,
    "api_key" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "team_id" TEXT,
    "user" TEXT,
    "end_user" TEXT,
    "metadata" JSONB,

    -- Rows arrive in time order: pages of this index fill up (a late row splits one, rarely).
    CONSTRAINT "tandem_spend_rows_pkey" PRIMARY KEY ("start_time", "request_id") WITH (fillfactor = 100)
) PARTITION BY RANGE ("start_time");

-- 26 bytes an entry (a hash index takes 37).
CREATE INDEX "tandem_spend_rows_request_id_idx" ON "tandem_spend_rows" (hashtextextended("request_id", 0));
CREATE INDEX "tandem_spend_rows_api_key_idx" ON "tandem_spend_rows" (hashtextextended("api_key", 0), "start_time");
CREATE INDEX "tandem_spend_rows_team_id_idx" ON "tandem_spend_rows" (hashtextextended("team_id", 0), "start_time") WHERE "team_id" IS NOT NULL;
CREATE INDEX "tandem_spend_rows_user_idx" ON "tandem_spend_rows" (hashtextextended("user", 0), "start_time") WHERE "user" IS NOT NULL;
CREATE INDEX "tandem_spend_rows_end_user_idx" ON "tandem_spend_rows" (hashtextextended("end_user", 0), "start_time") WHERE "end_user" IS NOT NULL;

-- The partition for one UTC day, created if missing (tandem creates the coming days ahead, and a
-- day's partition on demand before writing a row for it). Serialized, so two pods creating the same
-- day do not collide. As the table's owner (the role that migrates), so an application role that
-- may only write rows can still add a day.
CREATE FUNCTION "tandem_spend_rows_partition"("day" DATE) RETURNS TEXT LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  "name" TEXT := 'tandem_spend_rows_' || to_char("day", 'YYYYMMDD');
BEGIN
  IF to_regclass(quote_ident("name")) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('tandem_spend_rows_partition'));
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF "tandem_spend_rows" FOR VALUES FROM (%L) TO (%L)',
                   "name", "day"::timestamp AT TIME ZONE 'UTC', ("day" + 1)::timestamp AT TIME ZONE 'UTC');
  END IF;
  RETURN "name";
END
$$;

-- A previous-release row's metadata as this table keeps it: NULL for a plain completion.
CREATE FUNCTION "tandem_spend_metadata"("metadata" JSONB) RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
  SELECT nullif(CASE WHEN "metadata"->>'call_type' = 'acompletion' THEN "metadata" - 'call_type' ELSE "metadata" END, '{}'::jsonb)
$$;

-- Retention: one UTC day's rows dropped as a table (nothing to vacuum; one small record for the
-- replicas), as the table's owner. The daily aggregates are other tables and keep the history.
CREATE FUNCTION "tandem_spend_rows_drop"("day" DATE) RETURNS VOID LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS %I', 'tandem_spend_rows_' || to_char("day", 'YYYYMMDD'));
END
$$;

-- The days around now exist from the start.
SELECT "tandem_spend_rows_partition"((now() AT TIME ZONE 'UTC')::date + d) FROM generate_series(-1, 7) AS d;

-- The previous table's lock (taken first: its writers wait a moment, none is half-counted) while
-- its counting moves here.
LOCK TABLE "tandem_spend_logs" IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER "tandem_spend_logs_daily_spend" ON "tandem_spend_logs";

-- The daily aggregates grow with the rows this table gets, by the same function as before; rows
-- copied from the previous table's history were counted there already and are not counted again.
CREATE TRIGGER "tandem_spend_rows_daily_spend"
  AFTER INSERT ON "tandem_spend_rows"
  REFERENCING NEW TABLE AS "inserted"
  FOR EACH STATEMENT
  WHEN (current_setting('tandem.spend_history_copy', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION "tandem_add_to_daily_spend"();

-- A pod of the previous release inserts into "tandem_spend_logs" with ON CONFLICT ("request_id")
-- and adds the cost of the rows its RETURNING lists to the key's, team's and user's spend. Each of
-- its rows is copied here first; one that is here already (its batch retried), or that was in the
-- previous table before this migration (history, counted then and copied by `tandem migrate`), is
-- dropped from its insert, so it is neither returned nor counted again.
CREATE FUNCTION "tandem_spend_logs_to_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "tandem_spend_logs" WHERE "request_id" = NEW."request_id") THEN
    RETURN NULL;
  END IF;
  PERFORM "tandem_spend_rows_partition"((NEW."start_time" AT TIME ZONE 'UTC')::date);
  INSERT INTO "tandem_spend_rows"
      ("start_time", "end_time", "spend", "prompt_tokens", "completion_tokens", "total_tokens", "request_id", "api_key",
       "model", "team_id", "user", "end_user", "metadata")
  VALUES (NEW."start_time", NEW."end_time", NEW."spend", NEW."prompt_tokens", NEW."completion_tokens", NEW."total_tokens",
          NEW."request_id", NEW."api_key", NEW."model", NEW."team_id", NEW."user", NEW."end_user",
          "tandem_spend_metadata"(NEW."metadata"))
  ON CONFLICT DO NOTHING;
  IF FOUND THEN
    RETURN NEW;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "tandem_spend_logs_to_rows"
  BEFORE INSERT ON "tandem_spend_logs"
  FOR EACH ROW EXECUTE FUNCTION "tandem_spend_logs_to_rows"();
