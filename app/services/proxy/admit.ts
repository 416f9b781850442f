import type { Deployment } from "../../config/model-config.js";
import { FREE, type Ticket } from "../access/admission.js";
import { budgetScopes, endUserBudgetScopes, endUserLimitScopes, limitScopes } from "../access/access.js";
import type { EndUserRecord } from "../access/end-users.js";
import type { Caller } from "../access/auth.js";
import { ApiError } from "../errors.js";
import type { Busy } from "../upstream/model-router.js";
import type { ProxyDeps } from "./deps.js";
import type { Snapshot } from "../billing/spend-queue.js";

/** How long a request waits for requests in flight to release a budget they hold before it is refused (429). */
const BUDGET_WAIT_MS = 5000;

/**
 * Admits the request against its rate limits and budgets (one Redis round trip in a fleet). While
 * requests in flight hold the rest of a budget (a key's first requests, before any cost is known,
 * each hold all of it), the request waits for them — briefly, with backoff — instead of being
 * refused at once: a client's second request then runs once the first is charged, rather than failing.
 */
export async function admitRequest(deps: ProxyDeps, caller: Caller, endUser: EndUserRecord | null, costKey: string): Promise<Ticket> {
  const unwritten = (scope: string, snapshot?: Snapshot) => deps.spend.unwrittenParts(scope, snapshot);
  const deadline = Date.now() + BUDGET_WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
    try {
      return await deps.admissions.admit({
        limits: [...limitScopes(caller), ...endUserLimitScopes(endUser)],
        budgets: [...budgetScopes(caller, unwritten), ...endUserBudgetScopes(endUser, unwritten)],
        costKey,
      });
    } catch (error) {
      if (!(error instanceof ApiError) || error.type !== "budget_reserved" || Date.now() + pause > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * A deployment with rpm/tpm in model_list takes a request only within them (counted for the
 * fleet when there is a Redis); at its limit it is busy and another deployment is tried.
 */
export async function admitDeployment(deps: ProxyDeps, deployment: Deployment): Promise<Ticket | Busy> {
  if (deployment.rpm === undefined && deployment.tpm === undefined) return FREE;
  try {
    return await deps.admissions.admit({
      limits: [{ kind: "deployment", id: deployment.id, rpm: deployment.rpm ?? null, tpm: deployment.tpm ?? null, maxParallel: null }],
      budgets: [],
      costKey: "",
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 429)
      return { ok: false, retryable: true, busy: { retryAfterMs: Number(error.headers?.["retry-after"] ?? 1) * 1000 } };
    throw error;
  }
}
