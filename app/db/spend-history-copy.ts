import type pg from "pg";
import type { Logger } from "../observability/logger.js";

/** Rows per transaction: short enough that no lock or snapshot is held for long. */
const CHUNK = 5000;

/**
 * Copies the previous release's spend rows ("tandem_spend_logs") into the
 * partitioned table, in short transactions, then empties the old table. Pods
 * keep serving meanwhile: the new release's write the new table; the previous
 * release's rows are copied by the trigger as they are inserted. Copied rows
 * were counted in the daily aggregates when first written, so the copy tells
 * the aggregate trigger to leave them out. Idempotent and resumable: a copy
 * cut short leaves the old table intact and the next `tandem migrate` goes on.
 * Returns the rows copied.
 */
export async function copySpendHistory(client: pg.Client, log: Logger, lockTimeoutMs: number): Promise<number> {
  const { rows: tables } = await client.query<{ ready: boolean }>(
    `SELECT to_regclass('"tandem_spend_logs"') IS NOT NULL AND to_regclass('"tandem_spend_rows"') IS NOT NULL AS ready`,
  );
  if (!tables[0]?.ready) return 0;
  // Each day's partition first, one short transaction each (making one locks the table).
  const { rows: days } = await client.query<{ day: string }>(
    `SELECT DISTINCT to_char(("start_time" AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day FROM "tandem_spend_logs"`,
  );
  for (const { day } of days) await client.query(`SELECT "tandem_spend_rows_partition"($1::date)`, [day]);

  let copied = 0;
  let after = "";
  for (;;) {
    const { rows } = await client.query<{ last: string | null }>(
      `SELECT max("request_id") AS last FROM (SELECT "request_id" FROM "tandem_spend_logs" WHERE "request_id" > $1 ORDER BY "request_id" LIMIT ${CHUNK}) AS c`,
      [after],
    );
    const last = rows[0]?.last;
    if (!last) break;
    await client.query("BEGIN");
    try {
      await client.query(`SET LOCAL "tandem.spend_history_copy" = 'on'`);
      const result = await client.query(
        `INSERT INTO "tandem_spend_rows"
             ("start_time", "end_time", "spend", "prompt_tokens", "completion_tokens", "total_tokens", "request_id", "api_key",
              "model", "team_id", "user", "end_user", "metadata")
         SELECT "start_time", "end_time", "spend", "prompt_tokens", "completion_tokens", "total_tokens", "request_id", "api_key",
                "model", "team_id", "user", "end_user", "tandem_spend_metadata"("metadata")
         FROM "tandem_spend_logs" WHERE "request_id" > $1 AND "request_id" <= $2
         ON CONFLICT DO NOTHING`,
        [after, last],
      );
      await client.query("COMMIT");
      copied += result.rowCount ?? 0;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
    after = last;
  }
  // Every row there is also in the new table now (copied above, or by the trigger as it was
  // inserted): the old table is emptied at once, not deleted from row by row.
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await client.query(`TRUNCATE "tandem_spend_logs"`);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    log.warn({ err: error }, "the previous spend table was copied but not emptied (a lock was held); the next tandem migrate empties it");
  }
  if (copied > 0) log.info({ copied }, `copied ${copied} spend rows of the previous release into the partitioned table`);
  return copied;
}
