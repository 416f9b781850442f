import type { IncomingHttpHeaders } from "node:http";
import type { Request } from "express";
import { setCallerScope } from "../db/consistency.js";
import { authenticate, credentialOf, requireMaster, type Caller } from "../services/access/auth.js";
import type { AppContext } from "./context.js";

export async function callerOf(ctx: AppContext, headers: IncomingHttpHeaders): Promise<Caller> {
  const caller = await authenticate(ctx.database.db, ctx.masterKey, credentialOf(headers), ctx.callers);
  // This caller's later requests read what it writes (read-your-writes).
  setCallerScope(caller.kind === "master" ? "caller:master" : `key:${caller.key.token}`);
  return caller;
}

export async function masterOnly(ctx: AppContext, req: Request): Promise<void> {
  requireMaster(await callerOf(ctx, req.headers), `${req.method} ${req.path}`);
}
