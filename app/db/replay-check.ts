import { withDeadline } from "./deadline.js";
import { REPLAY_SQL, replayOf, type ReplayRow } from "./instance-identity.js";
import type { Lsn } from "./lsn.js";
import type { ReaderMember } from "./reader-set.js";

export type ReplayCheckResult = "replayed" | "behind" | "unanswered";

/**
 * Read-your-writes on demand: a read that needs WAL position X, when no
 * instance was seen that far at the last health cycle, asks one instance
 * whether it has replayed X by now (one short query on its own pool, so on
 * that very instance) instead of going to the writer until the next cycle.
 * At most one question is in flight per instance; reads that arrive
 * meanwhile wait for its answer rather than ask again.
 */
export class ReplayCheck {
  private readonly inFlight = new WeakMap<ReaderMember, Promise<void>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onResult?: (member: ReaderMember, result: ReplayCheckResult) => void,
  ) {}

  /** Whether `member` has replayed `lsn`: known already, or asked now (bounded by the timeout). */
  async reached(member: ReaderMember, lsn: Lsn): Promise<boolean> {
    if (member.replay !== undefined && member.replay >= lsn) return true;
    let running = this.inFlight.get(member);
    if (!running) {
      running = this.ask(member, lsn).finally(() => this.inFlight.delete(member));
      this.inFlight.set(member, running);
    }
    await running;
    return member.replay !== undefined && member.replay >= lsn;
  }

  private async ask(member: ReaderMember, lsn: Lsn): Promise<void> {
    const sentAt = Date.now();
    try {
      const result = await withDeadline(
        member.endpoint.pool.query<ReplayRow>(REPLAY_SQL),
        this.timeoutMs,
        () => new Error(`no answer within ${this.timeoutMs} ms`),
      );
      const row = result.rows[0];
      member.replayCheckedAt = sentAt;
      // The freshest look there is: it only ever raises what the health cycle saw.
      if (row) member.noteReplay(replayOf(row), true);
      this.onResult?.(member, member.replay !== undefined && member.replay >= lsn ? "replayed" : "behind");
    } catch {
      // Unknown: the read goes to the writer; the health cycle and the read path judge the instance.
      this.onResult?.(member, "unanswered");
    }
  }
}
