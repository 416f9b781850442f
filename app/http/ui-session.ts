import type { IncomingHttpHeaders } from "node:http";
import type { Caller } from "../services/access/auth.js";
import { ApiError } from "../services/errors.js";
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  cookieOf,
  csrfMatches,
  signingSecret,
  verifySession,
  type Session,
} from "../services/ui/session-token.js";
import type { AppContext } from "./context.js";

/** What this pod signs sessions with now (the master key may be re-read from its file). */
export function sessionSecret(ctx: AppContext): string {
  return signingSecret(ctx.masterKey, ctx.ui.password);
}

/** The admin UI's session on this request, if its cookie is valid and not signed out. */
export async function sessionOf(ctx: AppContext, headers: IncomingHttpHeaders): Promise<Session | undefined> {
  const session = verifySession(sessionSecret(ctx), cookieOf(headers.cookie, SESSION_COOKIE));
  if (!session || (await ctx.ui.revocations.isRevoked(session.id))) return undefined;
  return session;
}

/**
 * The admin, when the request carries the UI's session: every call must also carry the session's
 * CSRF token (a page on another site can make the browser send the cookie, never read the token),
 * and a browser's Origin, when sent, must be this host. No valid session: undefined (the caller is
 * then whoever the API key says, or nobody).
 */
export async function sessionCaller(ctx: AppContext, headers: IncomingHttpHeaders): Promise<Caller | undefined> {
  if (!ctx.ui.enabled) return undefined;
  const session = await sessionOf(ctx, headers);
  if (!session) return undefined;
  const csrf = headers[CSRF_HEADER];
  if (!csrfMatches(sessionSecret(ctx), session, typeof csrf === "string" ? csrf : undefined))
    throw ApiError.forbidden(`${CSRF_HEADER}: missing or not this session's (the admin UI sends it with every call)`, CSRF_HEADER);
  if (!sameOrigin(headers)) throw ApiError.forbidden("origin: a session's calls come from the admin UI's own origin", "origin");
  return { kind: "master" };
}

/** A browser's Origin (when it sends one) names the host the request went to. */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    const forwarded = headers["x-forwarded-host"];
    const host = (typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined) || headers.host;
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
