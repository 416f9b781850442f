import type { IncomingHttpHeaders } from "node:http";
import type { Request } from "express";
import { setCallerScope } from "../db/consistency.js";
import { authenticate, credentialOf, type Caller } from "../services/access/auth.js";
import { isAdmin } from "../services/access/key-ownership.js";
import { ApiError } from "../services/errors.js";
import type { AppContext } from "./context.js";
import { sessionCaller } from "./ui-session.js";

export async function callerOf(ctx: AppContext, headers: IncomingHttpHeaders): Promise<Caller> {
  const credential = credentialOf(headers);
  // The admin UI's calls: its session cookie, with the CSRF token it was given (no key in the page).
  const caller =
    (!credential && (await sessionCaller(ctx, headers))) || (await authenticate(ctx.database.db, ctx.masterKey, credential, ctx.callers));
  // This caller's later requests read what it writes (read-your-writes).
  setCallerScope(caller.kind === "master" ? "caller:master" : `key:${caller.key.token}`);
  return caller;
}

/** The proxy admin's routes: the master key, or a key of a proxy_admin user (LiteLLM's roles). */
export async function adminOnly(ctx: AppContext, req: Request): Promise<Caller> {
  const caller = await callerOf(ctx, req.headers);
  if (!isAdmin(caller)) throw ApiError.adminOnly(`${req.method} ${req.path}`);
  return caller;
}
