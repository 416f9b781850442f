import type { Request, Response } from "express";
import { authenticate, requireMaster, type Caller } from "../services/auth.js";
import type { AppContext } from "./context.js";

export async function callerOf(ctx: AppContext, req: Request, res: Response): Promise<Caller> {
  const caller = await authenticate(ctx.database.db, ctx.masterKey, req.header("authorization"));
  res.locals.caller = caller;
  return caller;
}

export async function masterOnly(ctx: AppContext, req: Request, res: Response): Promise<void> {
  requireMaster(await callerOf(ctx, req, res));
}
