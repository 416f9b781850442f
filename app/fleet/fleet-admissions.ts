import type { AdmissionRequest, Admissions, LocalAdmissions, Ticket } from "../services/access/admission.js";
import { RedisUnavailable, type RedisLink } from "./redis-link.js";
import type { RedisAdmissions } from "./redis-admissions.js";

/**
 * The fleet's count while Redis answers, this pod's share while it does not.
 * Every request the fleet admits is also counted in the pod's memory, so a
 * pod that must decide alone — Redis slow past its bound, failing or gone —
 * knows what it already took and enforces its part of each limit and budget:
 * the limit divided by the pods alive at the last heartbeat — and refuses a
 * scope the fleet last said was full this minute. The fleet then stays near
 * the limit instead of each pod serving all of it; it counts with the fleet
 * again as soon as Redis answers.
 */
export class FleetAdmissions implements Admissions {
  constructor(
    private readonly shared: RedisAdmissions,
    private readonly local: LocalAdmissions,
    private readonly link: RedisLink,
    private readonly pods: () => number,
  ) {}

  async admit(request: AdmissionRequest): Promise<Ticket> {
    if (this.link.usable) {
      try {
        const shared = await this.shared.admit(request);
        const own = this.local.record(request);
        return {
          done: (tokens) => {
            shared.done(tokens);
            own.done(tokens);
          },
        };
      } catch (error) {
        if (!(error instanceof RedisUnavailable)) throw error;
      }
    }
    const full = this.shared.fullFor(request);
    if (full) throw full;
    const own = await this.local.admit(request, { share: this.pods() });
    const counted = this.shared.alone(request);
    return {
      done: (tokens) => {
        own.done(tokens);
        counted.done(tokens);
      },
    };
  }
}
