import type { SpendRecord } from "./spend.js";

/**
 * Somewhere outside the pod that holds acknowledged spend until the
 * database has it: none for one pod (a SIGKILL loses what its memory held),
 * the fleet's Redis for several (another pod writes a dead pod's share).
 */
export interface SpendMirror {
  /**
   * Holds a copy of an acknowledged entry; resolves true once it is held (never rejects). `again`:
   * its first hold failed, and may or may not have landed.
   */
  hold(entry: SpendRecord, again?: boolean): Promise<boolean>;
  /** These entries are in the database (committed at `lsn`, when known): their copies go. */
  written(entries: readonly SpendRecord[], lsn: bigint | undefined): void;
}
