import { randomUUID } from "node:crypto";
import type { Caller } from "../access/auth.js";
import { tokenOf } from "../access/key-hash.js";
import { PROXY_BUDGET_USER } from "../billing/proxy-budget.js";
import type { Usage } from "../billing/spend.js";
import type { ProxyDeps } from "./deps.js";
import type { Operation } from "./operation.js";

/** What one answered call cost, for its spend row. */
export interface Answered {
  model: string;
  usage: Usage;
  cost: number;
  responseId: string | undefined;
  startTime: Date;
  estimated: boolean;
  cacheKey?: string;
  endUser: string | undefined;
}

// After the response, spend joins the pod's queue (written in batches,
// retried through writer outages): it never turns a completed request into an
// error. The row's identity is the upstream's response id — what the client
// sees, and what LiteLLM's /spend/logs?request_id= takes — or one tandem makes;
// the client's x-request-id is only for correlating logs, so no header can
// make a spend write collide.
export function record(deps: ProxyDeps, op: Pick<Operation, "callType">, caller: Caller, call: Answered): void {
  deps.spend.enqueue({
    requestId: call.responseId ?? `tandem-${randomUUID()}`,
    token: caller.kind === "key" ? caller.key.token : tokenOf(deps.masterKey),
    keyed: caller.kind === "key",
    teamId: caller.kind === "key" ? caller.key.team_id : null,
    organizationId: caller.kind === "key" ? (caller.key.team?.organization_id ?? null) : null,
    userId: caller.kind === "key" ? caller.key.user_id : null,
    endUser: call.endUser,
    proxyBudgetUser: PROXY_BUDGET_USER,
    callType: op.callType,
    model: call.model,
    usage: call.usage,
    estimated: call.estimated,
    cost: call.cost,
    startTime: call.startTime,
    endTime: new Date(),
    cacheKey: call.cacheKey,
  });
}
