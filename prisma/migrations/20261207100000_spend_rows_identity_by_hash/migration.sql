-- Spend rows 310 → 274 bytes for a plain completion (bench:spend-logs), the same three index writes
-- per row as before.
--
-- A row's identity becomes its start time and the 64-bit hash of its request id, 28 bytes an index
-- entry instead of 61 (the id itself, ~39 bytes, was stored a second time in the primary key). A
-- retried batch carries the same ids and start times, so it still lands on the same rows and counts
-- once. Two different requests are taken for one only if they start in the same millisecond and
-- their ids share a 64-bit hash: at 1,000 requests a second, about once in 10^12 days. The request
-- ids are the upstream's response ids, which no client chooses. Queries by request id recheck the
-- id itself, as before.
--
-- The filter indexes are rebuilt filled to 100%: each key's (team's, user's, end user's) rows
-- arrive in time order, so their entries are appended after that key's last one and pages are
-- never revisited but for a late row.
--
-- Pods built with only the previous migration name the old key in their ON CONFLICT and have
-- their spend writes refused (and retried) until they are replaced; no release carried that
-- layout (it and this one ship together).
ALTER TABLE "tandem_spend_rows" DROP CONSTRAINT "tandem_spend_rows_pkey";
CREATE UNIQUE INDEX "tandem_spend_rows_identity" ON "tandem_spend_rows" ("start_time", hashtextextended("request_id", 0))
  WITH (fillfactor = 100);

DROP INDEX "tandem_spend_rows_api_key_idx";
DROP INDEX "tandem_spend_rows_team_id_idx";
DROP INDEX "tandem_spend_rows_user_idx";
DROP INDEX "tandem_spend_rows_end_user_idx";
CREATE INDEX "tandem_spend_rows_api_key_idx" ON "tandem_spend_rows" (hashtextextended("api_key", 0), "start_time")
  WITH (fillfactor = 100);
CREATE INDEX "tandem_spend_rows_team_id_idx" ON "tandem_spend_rows" (hashtextextended("team_id", 0), "start_time")
  WITH (fillfactor = 100) WHERE "team_id" IS NOT NULL;
CREATE INDEX "tandem_spend_rows_user_idx" ON "tandem_spend_rows" (hashtextextended("user", 0), "start_time")
  WITH (fillfactor = 100) WHERE "user" IS NOT NULL;
CREATE INDEX "tandem_spend_rows_end_user_idx" ON "tandem_spend_rows" (hashtextextended("end_user", 0), "start_time")
  WITH (fillfactor = 100) WHERE "end_user" IS NOT NULL;
