import type { Request, Response } from "express";
import { setCallerScope } from "../db/consistency.js";
import { authenticate, credentialOf, requireMaster, type Caller } from "../services/auth.js";
import type { AppContext } from "./context.js";

export async function callerOf(ctx: AppContext, req: Request, res: Response): Promise<Caller> {
  const caller = await authenticate(ctx.database.db, ctx.masterKey, credentialOf(req.headers), ctx.callers);
  // This caller's later requests read what it writes (read-your-writes).
  setCallerScope(caller.kind === "master" ? "caller:master" : `key:${caller.key.token}`);
  res.locals.caller = caller;
  return caller;
}

export async function masterOnly(ctx: AppContext, req: Request, res: Response): Promise<void> {
  requireMaster(await callerOf(ctx, req, res), `${req.method} ${req.path}`);
}
